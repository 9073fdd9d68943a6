// Fuzzes the WebSocket upgrade checks: any request target, Origin, Sec-WebSocket-Protocol,
// Sec-WebSocket-Version and Sec-WebSocket-Key (one per line of the input, after a first line
// with the allowed origins, comma-separated, empty for any) get a decision, and the decision
// is checked against the rules written out plainly here: the path must be /ws, the Origin
// absent or allowed, the subprotocol the client's first of Haven's two (binary when it offered
// none), and an accepted key must be 16 bytes in base64 and give a 28-character accept key.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "net/upgrade_policy.hpp"
#include "net/ws_frames.hpp"

namespace {

namespace net = haven::net;
namespace protocol = haven::protocol;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "upgrade_fuzz: %s\n", what);
    std::abort();
}

// The first `count` lines; missing ones read as empty, the last takes the rest.
std::vector<std::string_view> lines_of(std::string_view text, std::size_t count) {
    std::vector<std::string_view> lines;
    while (lines.size() + 1 < count) {
        const std::size_t end = text.find('\n');
        if (end == std::string_view::npos) break;
        lines.push_back(text.substr(0, end));
        text.remove_prefix(end + 1);
    }
    lines.push_back(text);
    lines.resize(count);
    return lines;
}

std::string_view trim(std::string_view token) {
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
        token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    return token;
}

// The subprotocol the rules pick: none offered (only blanks) is binary with no name echoed;
// otherwise the first comma-separated offer that is one of Haven's, or nothing.
std::variant<std::monostate, std::string_view, bool> expected_subprotocol(
    std::string_view offered) {
    if (trim(offered).empty()) return true;  // binary, nothing echoed
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = offered.find(',', start);
        const std::string_view token = trim(offered.substr(start, comma - start));
        if (token == protocol::kBinarySubprotocol || token == protocol::kJsonSubprotocol) {
            return token;
        }
        if (comma == std::string_view::npos) return std::monostate{};
        start = comma + 1;
    }
}

void check_decision(std::string_view target, std::string_view origin, std::string_view offered,
                    const std::vector<std::string>& allowed) {
    const auto decision = net::check_upgrade(target, origin, offered, allowed);
    const bool path_ok = target.substr(0, target.find('?')) == "/ws";
    const bool origin_ok = origin.empty() || allowed.empty() ||
                           std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
    const auto expected = expected_subprotocol(offered);
    if (const auto* refusal = std::get_if<net::UpgradeRefusal>(&decision)) {
        const unsigned status = !path_ok ? 404 : !origin_ok ? 403 : 400;
        if (refusal->status != status) fail("refused with the wrong status");
        if (status == 400 && !std::holds_alternative<std::monostate>(expected)) {
            fail("refused a request that offered one of Haven's subprotocols");
        }
        if (refusal->body.empty() || refusal->body.back() != '\n') fail("refusal text");
        return;
    }
    if (!path_ok) fail("upgraded a request for another path");
    if (!origin_ok) fail("upgraded a request from an origin not allowed");
    const auto& choice = std::get<net::SubprotocolChoice>(decision);
    if (std::holds_alternative<std::monostate>(expected)) fail("accepted a foreign subprotocol");
    if (std::holds_alternative<bool>(expected)) {
        if (!choice.name.empty() || choice.encoding != protocol::Encoding::binary) {
            fail("no offer must mean binary with nothing echoed");
        }
        return;
    }
    const std::string_view name = std::get<std::string_view>(expected);
    if (choice.name != name) fail("not the first of Haven's subprotocols offered");
    const auto encoding =
        name == protocol::kJsonSubprotocol ? protocol::Encoding::json : protocol::Encoding::binary;
    if (choice.encoding != encoding) fail("the encoding does not match the subprotocol");
}

bool is_base64(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

void check_handshake(std::string_view version, std::string_view key) {
    const auto result = net::check_handshake(version, key);
    if (version != "13") {
        if (result != net::Handshake::wrong_version) fail("accepted another version");
        return;
    }
    if (result == net::Handshake::wrong_version) fail("refused version 13");
    // 16 bytes in base64: 22 characters and "==".
    const bool shaped = key.size() == 24 && key.substr(22) == "==" &&
                        std::all_of(key.begin(), key.begin() + 22, is_base64);
    if ((result == net::Handshake::accept) != shaped) fail("key check disagrees with the rule");
    if (result == net::Handshake::accept) {
        const std::string accept = haven::net::ws::accept_key(key);
        if (accept.size() != 28 || accept.back() != '=' ||
            !std::all_of(accept.begin(), accept.end() - 1, is_base64)) {
            fail("accept key is not 20 bytes in base64");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto lines = lines_of(input, 6);
    std::vector<std::string> allowed;
    for (std::string_view list = lines[0]; !list.empty();) {
        const std::size_t comma = std::min(list.find(','), list.size());
        allowed.emplace_back(list.substr(0, comma));
        list.remove_prefix(std::min(comma + 1, list.size()));
    }
    check_decision(lines[1], lines[2], lines[3], allowed);
    check_handshake(lines[4], lines[5]);
    return 0;
}
