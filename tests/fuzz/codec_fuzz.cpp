// Fuzzes the client message decoder in both encodings (binary protobuf and protobuf JSON):
// any bytes either decode to a ClientMessage that encodes again, or are refused.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool quiet = (haven::protocol::install_quiet_protobuf_logging(), true);
    (void)quiet;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    for (const auto encoding :
         {haven::protocol::Encoding::binary, haven::protocol::Encoding::json}) {
        haven::v1::ClientMessage message;
        if (haven::protocol::decode_client(bytes, encoding, message)) {
            (void)haven::protocol::encode_client(message, encoding);
        }
    }
    return 0;
}
