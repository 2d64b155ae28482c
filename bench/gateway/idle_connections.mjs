// Opens COUNT keep-alive connections to HOST:PORT, sends one request on each (CONCURRENCY at a
// time, so the proxy's upstream pool stays small), waits for every response, then holds the
// connections idle and prints "ready <count>" until it is killed. For the RSS-per-idle-connection
// row of bench/gateway/run.sh. Usage: node idle_connections.mjs HOST PORT PATH COUNT CONCURRENCY
import net from 'node:net';

const [host, port, path, countText, concurrencyText] = process.argv.slice(2);
const count = Number(countText);
const concurrency = Number(concurrencyText);
const body = '{"messages":[{"role":"user","content":"Hello"}],"max_tokens":16}';
const request =
  `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\n` +
  `api-key: client\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

const sockets = [];
function openOne() {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port) }, () => socket.write(request));
    let got = '';
    const onData = (chunk) => {
      got += chunk.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = /content-length:\s*(\d+)/i.exec(got.slice(0, end));
      if (!length || got.length < end + 4 + Number(length[1])) return;
      socket.off('data', onData);
      if (!got.startsWith('HTTP/1.1 200')) reject(new Error(`answer: ${got.slice(0, 80)}`));
      else resolve(socket);
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.setTimeout(30000, () => reject(new Error('no answer within 30 s')));
  });
}

let next = 0;
async function worker() {
  while (next < count) {
    next += 1;
    const socket = await openOne();
    socket.setTimeout(0);
    sockets.push(socket);
  }
}
try {
  await Promise.all(Array.from({ length: concurrency }, worker));
} catch (error) {
  console.error(`idle_connections: ${error.message}`);
  process.exit(1);
}
console.log(`ready ${sockets.length}`);
setInterval(() => {}, 1 << 30);  // hold the connections until killed
