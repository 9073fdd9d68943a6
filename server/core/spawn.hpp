// Starting a shard's coroutine, and hopping to another shard inside one.
//
// A request flow on a room's owner shard is a coroutine on that shard's event loop: it runs at
// once until its first wait (a broker round trip), so starting one costs what a call does, and
// it reads top to bottom. A flow never fails by exception: an exception escaping it is a bug
// and stops the shard's loop, as it would from any other handler.
//
// One rule for every flow, because of GCC 12: a temporary in a full-expression holding a
// co_await (an argument built in the call, a conditional's result) may be moved bytewise when
// the coroutine suspends, which corrupts a std::string kept in place. So awaited calls get
// named objects, and awaited functions take class arguments by reference.
#pragma once

#include <exception>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace haven::core {

template <class T>
using Awaitable = boost::asio::awaitable<T>;

inline void spawn(boost::asio::io_context& loop, Awaitable<void> flow) {
    boost::asio::co_spawn(loop, std::move(flow), [](const std::exception_ptr& error) {
        if (error) std::rethrow_exception(error);
    });
}

// Runs `work` (a callable returning Awaitable<T>) on `loop` and resumes the caller on its own
// loop with the result: `auto page = co_await on_loop(zero, [&] { ... });`.
template <class Work>
auto on_loop(boost::asio::io_context& loop, Work work) {
    return boost::asio::co_spawn(loop, std::move(work), boost::asio::use_awaitable);
}

}  // namespace haven::core
