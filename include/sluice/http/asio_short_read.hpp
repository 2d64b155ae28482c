#pragma once
// sluice: a copy of Boost.Asio 1.81's boost/asio/detail/reactive_socket_recv_op.hpp with one
// change, in do_perform (marked "sluice:"): a stream socket's read that fills less than its buffer
// reports `done_and_exhausted` (Asio's own copy reports it only at end of file). sluice's copy of
// Asio's epoll reactor (src/http/asio_epoll_reactor.ipp) then marks the socket drained when the
// read followed an epoll event that did not say the peer's FIN came, and the socket's next read
// waits for epoll instead of making a recv() that fails with EAGAIN. Without the two, every
// relayed token of a stream and every upstream response cost one failed recv() (docs/
// performance.md, "A short read marks the socket drained, unless the peer's FIN came with it").
// nginx reads the same way (`rev->ready = 0` after a short recv(), unless `pending_eof`).
//
// Why that is safe: TCP's recv() returns less than asked only when the receive queue ran out (or
// at an urgent-data mark, which no HTTP peer sends); data or a FIN that comes after the event
// raises a new edge in epoll, and that event sets the reactor's `try_speculative_` again. A FIN
// that came with the event is what the reactor's EPOLLRDHUP check is for.
//
// include/sluice/http/asio.hpp includes this file before any Boost.Asio header (and it is the
// precompiled header of every target that links sluice_http), so this definition, under Asio's own
// include guard, is the one every file compiles. A file that included Asio's first would compile
// Asio's (the linker would keep either: both are correct with sluice's reactor, one only costs a
// failed recv()); the unit tests in src/http/tests/asio_short_read_test.cpp fail if their file sees
// Asio's. When Debian's Boost changes, compare this file with the new reactive_socket_recv_op.hpp
// and carry the change over.
#include <boost/version.hpp>
#if BOOST_VERSION != 108100
#error "sluice/http/asio_short_read.hpp copies Boost 1.81's reactive_socket_recv_op.hpp; update it"
#endif
#ifdef BOOST_ASIO_DETAIL_REACTIVE_SOCKET_RECV_OP_HPP
#error \
    "Boost.Asio's reactive_socket_recv_op.hpp came first: include sluice/http/asio.hpp before Asio"
#endif
// What Asio's own includers have declared before they include it.
#include <boost/asio/error.hpp>
#include <boost/asio/socket_base.hpp>

// Asio's layout, kept so the copy can be compared with Asio's file line by line.
// clang-format off

//
// detail/reactive_socket_recv_op.hpp
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
//
// Copyright (c) 2003-2022 Christopher M. Kohlhoff (chris at kohlhoff dot com)
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_ASIO_DETAIL_REACTIVE_SOCKET_RECV_OP_HPP
#define BOOST_ASIO_DETAIL_REACTIVE_SOCKET_RECV_OP_HPP

#if defined(_MSC_VER) && (_MSC_VER >= 1200)
# pragma once
#endif // defined(_MSC_VER) && (_MSC_VER >= 1200)

#include <boost/asio/detail/config.hpp>
#include <boost/asio/detail/bind_handler.hpp>
#include <boost/asio/detail/buffer_sequence_adapter.hpp>
#include <boost/asio/detail/fenced_block.hpp>
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_invoke_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/memory.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/detail/socket_ops.hpp>

#include <boost/asio/detail/push_options.hpp>

namespace boost {
namespace asio {
namespace detail {

template <typename MutableBufferSequence>
class reactive_socket_recv_op_base : public reactor_op
{
public:
  reactive_socket_recv_op_base(const boost::system::error_code& success_ec,
      socket_type socket, socket_ops::state_type state,
      const MutableBufferSequence& buffers,
      socket_base::message_flags flags, func_type complete_func)
    : reactor_op(success_ec,
        &reactive_socket_recv_op_base::do_perform, complete_func),
      socket_(socket),
      state_(state),
      buffers_(buffers),
      flags_(flags)
  {
  }

  static status do_perform(reactor_op* base)
  {
    reactive_socket_recv_op_base* o(
        static_cast<reactive_socket_recv_op_base*>(base));

    typedef buffer_sequence_adapter<boost::asio::mutable_buffer,
        MutableBufferSequence> bufs_type;

    status result;
    std::size_t asked; // sluice: the buffer's size, to tell a short read
    if (bufs_type::is_single_buffer)
    {
      asked = bufs_type::first(o->buffers_).size();
      result = socket_ops::non_blocking_recv1(o->socket_,
          bufs_type::first(o->buffers_).data(),
          asked, o->flags_,
          (o->state_ & socket_ops::stream_oriented) != 0,
          o->ec_, o->bytes_transferred_) ? done : not_done;
    }
    else
    {
      bufs_type bufs(o->buffers_);
      asked = bufs.total_size();
      result = socket_ops::non_blocking_recv(o->socket_,
          bufs.buffers(), bufs.count(), o->flags_,
          (o->state_ & socket_ops::stream_oriented) != 0,
          o->ec_, o->bytes_transferred_) ? done : not_done;
    }

    // sluice: a read short of its buffer (end of file included) drained the socket.
    if (result == done)
      if ((o->state_ & socket_ops::stream_oriented) != 0)
        if (o->bytes_transferred_ == 0 ||
            (!o->ec_ && o->bytes_transferred_ < asked))
          result = done_and_exhausted;

    BOOST_ASIO_HANDLER_REACTOR_OPERATION((*o, "non_blocking_recv",
          o->ec_, o->bytes_transferred_));

    return result;
  }

private:
  socket_type socket_;
  socket_ops::state_type state_;
  MutableBufferSequence buffers_;
  socket_base::message_flags flags_;
};

template <typename MutableBufferSequence, typename Handler, typename IoExecutor>
class reactive_socket_recv_op :
  public reactive_socket_recv_op_base<MutableBufferSequence>
{
public:
  BOOST_ASIO_DEFINE_HANDLER_PTR(reactive_socket_recv_op);

  reactive_socket_recv_op(const boost::system::error_code& success_ec,
      socket_type socket, socket_ops::state_type state,
      const MutableBufferSequence& buffers, socket_base::message_flags flags,
      Handler& handler, const IoExecutor& io_ex)
    : reactive_socket_recv_op_base<MutableBufferSequence>(success_ec, socket,
        state, buffers, flags, &reactive_socket_recv_op::do_complete),
      handler_(BOOST_ASIO_MOVE_CAST(Handler)(handler)),
      work_(handler_, io_ex)
  {
  }

  static void do_complete(void* owner, operation* base,
      const boost::system::error_code& /*ec*/,
      std::size_t /*bytes_transferred*/)
  {
    // Take ownership of the handler object.
    reactive_socket_recv_op* o(static_cast<reactive_socket_recv_op*>(base));
    ptr p = { boost::asio::detail::addressof(o->handler_), o, o };

    BOOST_ASIO_HANDLER_COMPLETION((*o));

    // Take ownership of the operation's outstanding work.
    handler_work<Handler, IoExecutor> w(
        BOOST_ASIO_MOVE_CAST2(handler_work<Handler, IoExecutor>)(
          o->work_));

    BOOST_ASIO_ERROR_LOCATION(o->ec_);

    // Make a copy of the handler so that the memory can be deallocated before
    // the upcall is made. Even if we're not about to make an upcall, a
    // sub-object of the handler may be the true owner of the memory associated
    // with the handler. Consequently, a local copy of the handler is required
    // to ensure that any owning sub-object remains valid until after we have
    // deallocated the memory here.
    detail::binder2<Handler, boost::system::error_code, std::size_t>
      handler(o->handler_, o->ec_, o->bytes_transferred_);
    p.h = boost::asio::detail::addressof(handler.handler_);
    p.reset();

    // Make the upcall if required.
    if (owner)
    {
      fenced_block b(fenced_block::half);
      BOOST_ASIO_HANDLER_INVOCATION_BEGIN((handler.arg1_, handler.arg2_));
      w.complete(handler, handler.handler_);
      BOOST_ASIO_HANDLER_INVOCATION_END;
    }
  }

private:
  Handler handler_;
  handler_work<Handler, IoExecutor> work_;
};

} // namespace detail
} // namespace asio
} // namespace boost

#include <boost/asio/detail/pop_options.hpp>

#endif // BOOST_ASIO_DETAIL_REACTIVE_SOCKET_RECV_OP_HPP
// clang-format on

namespace sluice::http {
// Defined only in sluice's copy of Asio's epoll reactor (src/http/asio_epoll_reactor.ipp), which
// this receive operation needs: a test calls it, so a build that compiled Asio's own reactor,
// where a short read would be marked drained on every path, fails to link.
bool asio_reactor_watches_peer_fin() noexcept;
}  // namespace sluice::http
