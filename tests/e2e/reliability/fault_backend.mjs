// A backend that misbehaves on purpose, for the fault matrix (backend_faults.test.mjs). It speaks
// raw TCP so it can do what no well-behaved HTTP server library would: reset a connection in the
// middle of a body, stall after the head, drip one byte a second, send garbage, promise a 2 GB body,
// never end a stream, or lie in Content-Length. The fault is the deployment name in the request
// path (/openai/deployments/<fault>/chat/completions), so one backend serves every row of the matrix.
import net from 'node:net';

const CHAT_BODY = JSON.stringify({
  id: 'chatcmpl-fault', object: 'chat.completion', created: 1700000000, model: 'gpt-4o-2024-08-06',
  choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Hello from the fault backend.' } }],
  usage: { prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 },
});

function sseChunk(content) {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-fault', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-2024-08-06',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  })}\n\n`;
}

function chunked(text) {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

const JSON_HEAD = (length) => `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`;
const SSE_HEAD = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n';

// Each fault: (socket, timers, streamAsked) => void. `timers` collects intervals so close() can stop them.
const FAULTS = {
  // A correct answer, the control row: JSON, or a whole stream when one was asked for.
  ok: (socket, timers, stream) => {
    if (!stream) {
      socket.write(JSON_HEAD(Buffer.byteLength(CHAT_BODY)) + CHAT_BODY);
      return;
    }
    const last = `data: ${JSON.stringify({
      id: 'chatcmpl-fault', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-2024-08-06',
      choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
    })}\n\n`;
    socket.write(SSE_HEAD + chunked(sseChunk('Hello from the fault backend.')) + chunked(last) +
      chunked('data: [DONE]\n\n') + '0\r\n\r\n');
  },
  // Head and part of the body, then a TCP reset.
  'reset-mid-body': (socket) => {
    socket.write(JSON_HEAD(Buffer.byteLength(CHAT_BODY)) + CHAT_BODY.slice(0, 40), () => socket.resetAndDestroy());
  },
  // Three content chunks of a stream, then a TCP reset.
  'reset-mid-stream': (socket) => {
    socket.write(SSE_HEAD + chunked(sseChunk('one ')) + chunked(sseChunk('two ')) + chunked(sseChunk('three ')),
      () => setTimeout(() => socket.resetAndDestroy(), 50));
  },
  // The head of a JSON answer, then silence.
  'stall-after-headers': (socket) => socket.write(JSON_HEAD(Buffer.byteLength(CHAT_BODY))),
  // The head, then the body one byte a second.
  drip: (socket, timers) => {
    socket.write(JSON_HEAD(Buffer.byteLength(CHAT_BODY)));
    let at = 0;
    timers.push(setInterval(() => {
      if (at < CHAT_BODY.length && !socket.destroyed) socket.write(CHAT_BODY[at++]);
    }, 1000));
  },
  // Not HTTP at all.
  garbage: (socket) => socket.end('\x16\x03\x01 this is not HTTP \x00\xff\r\n\r\n'),
  // Promises 2 GB and sends zeros for as long as the peer reads.
  'huge-body': (socket) => {
    socket.write(JSON_HEAD(2 * 1024 * 1024 * 1024));
    const block = Buffer.alloc(1 << 20, 0x20);
    const pump = () => {
      while (!socket.destroyed && socket.write(block)) { /* until the kernel buffer is full */ }
    };
    socket.on('drain', pump);
    pump();
  },
  // A stream that sends a chunk every 100 ms and never ends.
  'endless-stream': (socket, timers) => {
    socket.write(SSE_HEAD);
    timers.push(setInterval(() => {
      if (!socket.destroyed) socket.write(chunked(sseChunk('more ')));
    }, 100));
  },
  // Content-Length larger than the body, then the connection closes.
  'short-content-length': (socket) => socket.end(JSON_HEAD(Buffer.byteLength(CHAT_BODY) + 500) + CHAT_BODY),
  // Content-Length smaller than the body: the rest is left on a keep-alive connection.
  'long-content-length': (socket) => socket.write(JSON_HEAD(20) + CHAT_BODY),
};

export const FAULT_NAMES = Object.keys(FAULTS);

// Starts the backend on 127.0.0.1; resolves { url, port, requests: {fault: count}, close() }.
export function startFaultBackend() {
  const requests = {};
  const sockets = new Set();
  const timers = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (data) => {
      buffered = Buffer.concat([buffered, data]);
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = buffered.subarray(0, headEnd).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < headEnd + 4 + length) return;
        const body = buffered.subarray(headEnd + 4, headEnd + 4 + length).toString();
        buffered = buffered.subarray(headEnd + 4 + length);
        const fault = /\/deployments\/([^/]+)\//.exec(head)?.[1] ?? 'ok';
        requests[fault] = (requests[fault] ?? 0) + 1;
        (FAULTS[fault] ?? FAULTS.ok)(socket, timers, /"stream"\s*:\s*true/.test(body));
      }
    });
  });
  return new Promise((resolvePromise) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolvePromise({
        url: `http://127.0.0.1:${port}`,
        port,
        requests,
        close: () => new Promise((done) => {
          for (const timer of timers) clearInterval(timer);
          for (const socket of sockets) socket.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}
