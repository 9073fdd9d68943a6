// One HTTP(S) request from the operator's command line to a server's admin API, with Beast
// kept behind this plain interface.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace haven::tools {

struct AdminRequest {
    std::string url;  // http(s)://host:port, no path
    std::string method = "GET";
    std::string target;              // "/admin/api/info"
    std::string body;                // JSON, for POST
    std::string bearer;              // the operator token
    bool verify_certificate = true;  // https: the server's certificate and name
    std::chrono::milliseconds timeout{10'000};
};

struct AdminResponse {
    unsigned status = 0;
    std::string body;
};

// The server's answer, or nothing with `error` saying why there was none.
std::optional<AdminResponse> send_admin_request(const AdminRequest& request, std::string& error);

}  // namespace haven::tools
