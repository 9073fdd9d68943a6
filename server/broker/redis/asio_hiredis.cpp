#include "broker/redis/asio_hiredis.hpp"

#include <memory>

#include <hiredis/async.h>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace haven::broker::redis {
namespace {

namespace asio = boost::asio;

// One per context. Owned by a shared_ptr so that a completion handler that runs after hiredis
// has cleaned the context up finds `context == nullptr` instead of freed memory.
struct Watcher : std::enable_shared_from_this<Watcher> {
    Watcher(asio::io_context& io, redisAsyncContext* ctx) : socket(io), context(ctx) {
        socket.assign(ctx->c.fd);
    }

    void want(asio::posix::stream_descriptor::wait_type type, bool& wanted, bool& waiting) {
        wanted = true;
        if (waiting) return;
        waiting = true;
        socket.async_wait(type, [self = shared_from_this(), type, &wanted,
                                 &waiting](boost::system::error_code ec) {
            waiting = false;
            if (ec || self->context == nullptr || !wanted) return;
            if (type == asio::posix::stream_descriptor::wait_read) {
                redisAsyncHandleRead(self->context);
            } else {
                redisAsyncHandleWrite(self->context);
            }
            // hiredis may have cleaned up inside the call; otherwise keep watching.
            if (self->context != nullptr && wanted) self->want(type, wanted, waiting);
        });
    }

    asio::posix::stream_descriptor socket;
    redisAsyncContext* context;
    bool read_wanted = false;
    bool write_wanted = false;
    bool read_waiting = false;
    bool write_waiting = false;
    std::shared_ptr<Watcher> self_reference;  // released in cleanup
};

Watcher& watcher(void* data) {
    return *static_cast<Watcher*>(data);
}

void add_read(void* data) {
    Watcher& w = watcher(data);
    w.want(asio::posix::stream_descriptor::wait_read, w.read_wanted, w.read_waiting);
}
void del_read(void* data) {
    watcher(data).read_wanted = false;
}
void add_write(void* data) {
    Watcher& w = watcher(data);
    w.want(asio::posix::stream_descriptor::wait_write, w.write_wanted, w.write_waiting);
}
void del_write(void* data) {
    watcher(data).write_wanted = false;
}

void cleanup(void* data) {
    Watcher& w = watcher(data);
    w.context = nullptr;
    w.read_wanted = w.write_wanted = false;
    // Stop watching without closing: hiredis closes the descriptor itself. release() also
    // aborts pending waits, whose handlers then see context == nullptr.
    w.socket.release();
    w.self_reference.reset();  // may destroy the watcher once no handler holds it
}

}  // namespace

bool attach_to_asio(redisAsyncContext* context, asio::io_context& io) {
    if (context->ev.data != nullptr) return false;
    auto w = std::make_shared<Watcher>(io, context);
    w->self_reference = w;
    context->ev.data = w.get();
    context->ev.addRead = add_read;
    context->ev.delRead = del_read;
    context->ev.addWrite = add_write;
    context->ev.delWrite = del_write;
    context->ev.cleanup = cleanup;
    return true;
}

}  // namespace haven::broker::redis
