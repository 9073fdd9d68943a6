// One HTTP(S) request made by Haven itself: haven-admin's calls to a server's admin API, and
// the server's alert webhook. Blocking, with a deadline; Beast is kept behind this plain
// interface, so callers run it where blocking is fine (a command line, a worker thread).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace haven::http {

struct OutboundRequest {
    std::string url;  // http(s)://host[:port][/path]
    std::string method = "GET";
    std::string target;              // the path to ask for; empty: the url's own path, or "/"
    std::string body;                // JSON, for POST
    std::string bearer;              // an Authorization: Bearer token, when set
    std::vector<std::pair<std::string, std::string>> headers;  // more fields to send
    std::string user_agent = "haven";
    bool verify_certificate = true;  // https: the server's certificate and name
    std::chrono::milliseconds timeout{10'000};
};

struct OutboundResponse {
    unsigned status = 0;
    std::string body;
};

// The server's answer, or nothing with `error` saying why there was none.
std::optional<OutboundResponse> send_http_request(const OutboundRequest& request,
                                                  std::string& error);

}  // namespace haven::http
