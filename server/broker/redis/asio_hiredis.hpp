// Drives a hiredis async context from an Asio event loop: hiredis asks to watch its socket for
// reading or writing, and this adapter turns those requests into async_wait on the socket.
// hiredis 0.14 ships adapters for other loops but none for Asio.
#pragma once

#include <boost/asio/io_context.hpp>

struct redisAsyncContext;

namespace haven::broker::redis {

// Attaches `context` to `io`. Call before setting the connect callback. The adapter frees
// itself when hiredis cleans the context up; it never closes the socket (hiredis owns it).
// Returns false when the context already has an adapter.
bool attach_to_asio(redisAsyncContext* context, boost::asio::io_context& io);

}  // namespace haven::broker::redis
