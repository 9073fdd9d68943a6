// What a broker operation gives back: a value, or why there is none. One type for every
// outcome instead of callbacks with sentinel values (an empty optional, a zero, a status).
#pragma once

#include <cstdint>
#include <stdexcept>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

namespace haven::broker {

struct Failure {
    enum class Reason {
        unavailable,   // the backing service could not be reached; retrying may work
        rate_limited,  // the author's post budget is spent for now
        room_full,     // the room is at capacity
        already_member,
        handle_taken,  // another person in the room has a handle that looks the same
        conflict,      // a versioned state field changed since it was read (StateChange::swap)
    };
    Reason reason = Reason::unavailable;
    std::uint32_t retry_after_ms = 0;  // with rate_limited

    static Failure unavailable() { return {Reason::unavailable, 0}; }
};

// Reached only by calling value() on a failed result, which the flows never do (they test
// the result first); kept so the type is complete.
[[noreturn]] inline void throw_exception_from_error(const Failure&, const boost::source_location&) {
    throw std::runtime_error("broker operation failed");
}

template <class T>
using Result = boost::system::result<T, Failure>;

}  // namespace haven::broker
