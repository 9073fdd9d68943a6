// Where the answer to a request goes: the session's shard, the session, and the request id
// the reply echoes. Carried across shards by value; a session id of 0 means nobody waits.
#pragma once

#include <cstdint>

namespace haven::rooms {

struct ReplyTo {
    unsigned shard;
    std::uint64_t session_id;
    std::uint64_t request_id;
};

}  // namespace haven::rooms
