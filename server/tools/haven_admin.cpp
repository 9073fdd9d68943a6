// haven-admin: the operator's command line.
//
//   haven-admin token --role moderator --rooms lobby,grief-and-loss --name "Ana" [--hours 12]
//
// prints an identity token signed with the server's auth.jwt_hs256_secret (from
// HAVEN_JWT_SECRET, or from the configuration file), so a new moderator can sign in before an
// identity system is connected: paste it into the web client's "Sign in with a token". The
// token carries the server's auth.jwt_issuer and auth.jwt_audience when they are set.
//
//   haven-admin info | rooms | presence ROOM | presence-stats ROOM | history ROOM
//   haven-admin publish ROOM TEXT | disconnect SUBJECT --reason R
//   haven-admin history-remove ROOM --reason R | batch FILE | audit [--room ROOM]
//   haven-admin open-room TEMPLATE [--title T] [--topic T] | close-room ROOM --reason R
//
// call the server's admin API (docs/deploying.md) and print its JSON answer. The server is
// found from the configuration (server.address and port, https when TLS is on) unless --url
// says otherwise; the operator token comes from --token or HAVEN_ADMIN_TOKEN, or is minted for
// ten minutes with the server's secret, naming the operator after the login user.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include <boost/json.hpp>

#include "auth/token_minting.hpp"
#include "config/config.hpp"
#include "http/outbound_http.hpp"

namespace po = boost::program_options;

namespace {

constexpr int kUsage = 2;

// "lobby,grief-and-loss" -> each room granted `role`.
std::map<std::string, haven::auth::Role> room_grants(const std::string& list,
                                                     haven::auth::Role role) {
    std::map<std::string, haven::auth::Role> grants;
    std::size_t start = 0;
    while (start < list.size()) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        if (comma > start) grants[list.substr(start, comma - start)] = role;
        start = comma + 1;
    }
    return grants;
}

std::string random_subject() {
    std::random_device device;
    static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string subject = "admin-minted-";
    for (int i = 0; i < 10; ++i) subject += kAlphabet[device() % (sizeof kAlphabet - 1)];
    return subject;
}

// The server's configuration, or nothing once the error is printed.
std::optional<haven::config::Config> load_config(const std::string& path) {
    try {
        return haven::config::load_config_file(path);
    } catch (const haven::config::ConfigError& error) {
        std::fprintf(stderr, "%s\n", error.what());
        return std::nullopt;
    }
}

int mint_token(int argc, char** argv) {
    po::options_description options("haven-admin token options");
    options.add_options()("help,h", "show this help")(
        "role", po::value<std::string>()->default_value("moderator"),
        "participant | peer_supporter | moderator | operator")(
        "rooms", po::value<std::string>()->default_value(""),
        "comma-separated room ids: the role is granted in these rooms only (the person is a "
        "participant elsewhere); empty: the role everywhere")(
        "name", po::value<std::string>()->default_value("Moderator"),
        "the name others see (staff names are protected from look-alikes)")(
        "subject", po::value<std::string>()->default_value(""),
        "the person's stable id (default: a new random one)")(
        "hours", po::value<unsigned>()->default_value(12), "validity, 1..720 hours")(
        "config,c", po::value<std::string>()->default_value("config/haven.toml"),
        "the server's configuration (for the secret, issuer and audience)");
    po::variables_map args;
    try {
        po::store(po::parse_command_line(argc, argv, options), args);
        po::notify(args);
    } catch (const po::error& error) {
        std::fprintf(stderr, "haven-admin token: %s\n", error.what());
        return kUsage;
    }
    if (args.count("help")) {
        std::cout << options << "\n";
        return 0;
    }
    const auto role = haven::auth::role_from_string(args["role"].as<std::string>());
    if (!role) {
        std::fprintf(stderr,
                     "haven-admin token: --role must be participant, peer_supporter, "
                     "moderator or operator\n");
        return kUsage;
    }
    const unsigned hours = args["hours"].as<unsigned>();
    if (hours < 1 || hours > 720) {
        std::fprintf(stderr, "haven-admin token: --hours must be 1 to 720\n");
        return kUsage;
    }
    const auto loaded = load_config(args["config"].as<std::string>());
    if (!loaded) return kUsage;
    const haven::config::Config& config = *loaded;
    if (config.auth.jwt_hs256_secret.empty()) {
        std::fprintf(stderr,
                     "haven-admin token: no HS256 secret: set HAVEN_JWT_SECRET (as the "
                     "server has it) or auth.jwt_hs256_secret\n");
        return kUsage;
    }

    haven::auth::TokenRequest request;
    request.subject = args["subject"].as<std::string>();
    if (request.subject.empty()) request.subject = random_subject();
    request.name = args["name"].as<std::string>();
    const std::string rooms = args["rooms"].as<std::string>();
    if (rooms.empty()) {
        request.role = *role;
    } else {
        request.room_roles = room_grants(rooms, *role);
        for (const auto& [room, granted] : request.room_roles) {
            const bool valid = room.size() <= haven::auth::max_room_id_bytes &&
                               room.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") ==
                                   std::string::npos;
            if (!valid) {
                std::fprintf(stderr, "haven-admin token: room ids are [a-z0-9_-]{1,64}\n");
                return kUsage;
            }
        }
    }
    const auto now = std::chrono::system_clock::now();
    request.expires_at =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() +
        std::int64_t{hours} * 3600;
    request.issuer = config.auth.jwt_issuer;
    request.audience = config.auth.jwt_audience;
    std::cout << haven::auth::mint_hs256_token(request, config.auth.jwt_hs256_secret) << "\n";
    return 0;
}

// ---- the admin API ----------------------------------------------------------------------

constexpr int kRefused = 1;      // the server answered with an error
constexpr int kUnreachable = 3;  // no answer at all

constexpr const char* kApiUsage =
    "usage: haven-admin COMMAND [ARGS] [--url URL] [--token TOKEN] [--config FILE] [--insecure]\n"
    "  info                          the cluster's instances\n"
    "  rooms                         the rooms, with their members on every instance\n"
    "  presence ROOM                 who is in a room\n"
    "  presence-stats ROOM           how many connections and people\n"
    "  history ROOM [--before SEQ] [--limit N]\n"
    "                                a room's events as moderators see them\n"
    "  audit [--room ROOM] [--limit N]\n"
    "                                the audit log, newest first\n"
    "  publish ROOM TEXT             a notice from the service into a room\n"
    "  disconnect SUBJECT --reason R every session of a person, on every instance\n"
    "  history-remove ROOM --reason R\n"
    "                                removes a room's history, on every instance\n"
    "  open-room TEMPLATE [--title T] [--topic T]\n"
    "                                a room from a [[room_templates]] entry, on every instance\n"
    "  close-room ROOM --reason R    closes a room opened so; its members leave it\n"
    "  batch FILE                    the calls in FILE ('-': standard input), in order\n"
    "  token ...                     an identity token (haven-admin token --help)\n";

bool valid_room_id(const std::string& room) {
    return !room.empty() && room.size() <= haven::auth::max_room_id_bytes &&
           room.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string::npos;
}

bool is_number(const std::string& text) {
    return !text.empty() && text.size() <= 20 &&
           text.find_first_not_of("0123456789") == std::string::npos;
}

// The server's own address, as a client on this machine reaches it.
std::string url_from_config(const haven::config::Config& config) {
    std::string host = config.server.address;
    if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
    if (host == "::") host = "::1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    return (config.tls.enabled() ? "https://" : "http://") + host + ":" +
           std::to_string(config.server.port);
}

// A short-lived operator token naming the person at the keyboard.
std::string operator_token(const haven::config::Config& config) {
    const char* user = std::getenv("USER");
    const std::string who = user != nullptr && *user != '\0' ? user : "operator";
    haven::auth::TokenRequest request;
    request.subject = "operator-cli-" + who;
    request.name = "Operator " + who;
    request.role = haven::auth::Role::operator_;
    request.expires_at = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count() +
                         600;
    request.issuer = config.auth.jwt_issuer;
    request.audience = config.auth.jwt_audience;
    return haven::auth::mint_hs256_token(request, config.auth.jwt_hs256_secret);
}

int usage_error(const std::string& message) {
    std::fprintf(stderr, "haven-admin: %s\n%s", message.c_str(), kApiUsage);
    return kUsage;
}

// Turns a command and its arguments into the API call it stands for.
bool build_call(const std::string& command, const std::vector<std::string>& words,
                const po::variables_map& args, haven::http::OutboundRequest& call,
                std::string& problem) {
    const auto needs = [&](std::size_t count, const char* what) {
        if (words.size() == count) return true;
        problem = command + " takes " + what;
        return false;
    };
    const auto room_at = [&](std::size_t index) {
        if (valid_room_id(words[index])) return true;
        problem = "room ids are [a-z0-9_-]{1,64}";
        return false;
    };
    const auto reason = [&]() -> std::optional<std::string> {
        if (args.count("reason") && !args["reason"].as<std::string>().empty()) {
            return args["reason"].as<std::string>();
        }
        problem = command + " needs --reason (it goes into the audit log)";
        return std::nullopt;
    };
    const auto post = [&](boost::json::object body) {
        call.method = "POST";
        call.body = boost::json::serialize(body);
    };
    if (command == "info" || command == "rooms") {
        if (!needs(0, "no arguments")) return false;
        call.target = "/admin/api/" + command;
    } else if (command == "presence" || command == "presence-stats") {
        if (!needs(1, "a room id") || !room_at(0)) return false;
        call.target = std::string("/admin/api/") +
                      (command == "presence" ? "presence" : "presence_stats") + "?room=" + words[0];
    } else if (command == "history") {
        if (!needs(1, "a room id") || !room_at(0)) return false;
        call.target = "/admin/api/history?room=" + words[0];
        for (const char* name : {"before", "limit"}) {
            if (!args.count(name)) continue;
            const std::string value = args[name].as<std::string>();
            if (!is_number(value)) {
                problem = std::string("--") + name + " must be a number";
                return false;
            }
            call.target += std::string("&") + name + "=" + value;
        }
    } else if (command == "audit") {
        if (!needs(0, "no arguments (use --room)")) return false;
        call.target = "/admin/audit?limit=";
        const std::string limit = args.count("limit") ? args["limit"].as<std::string>() : "50";
        if (!is_number(limit)) {
            problem = "--limit must be a number";
            return false;
        }
        call.target += limit;
        if (args.count("room")) {
            const std::string room = args["room"].as<std::string>();
            if (!valid_room_id(room)) {
                problem = "room ids are [a-z0-9_-]{1,64}";
                return false;
            }
            call.target += "&room=" + room;
        }
    } else if (command == "publish") {
        if (!needs(2, "a room id and the notice's text") || !room_at(0)) return false;
        call.target = "/admin/api/publish";
        post({{"room", words[0]}, {"text", words[1]}});
    } else if (command == "disconnect") {
        if (!needs(1, "a subject")) return false;
        const auto why = reason();
        if (!why) return false;
        call.target = "/admin/api/disconnect";
        post({{"subject", words[0]}, {"reason", *why}});
    } else if (command == "history-remove") {
        if (!needs(1, "a room id") || !room_at(0)) return false;
        const auto why = reason();
        if (!why) return false;
        call.target = "/admin/api/history_remove";
        post({{"room", words[0]}, {"reason", *why}});
    } else if (command == "open-room") {
        if (!needs(1, "a template (a [[room_templates]] id)")) return false;
        boost::json::object body{{"template", words[0]}};
        for (const char* name : {"title", "topic"}) {
            if (args.count(name)) body[name] = args[name].as<std::string>();
        }
        call.target = "/admin/api/rooms/open";
        post(std::move(body));
    } else if (command == "close-room") {
        if (!needs(1, "a room id")) return false;
        const auto why = reason();
        if (!why) return false;
        call.target = "/admin/api/rooms/close";
        post({{"room", words[0]}, {"reason", *why}});
    } else if (command == "batch") {
        if (!needs(1, "a file of calls ('-': standard input)")) return false;
        std::stringstream text;
        if (words[0] == "-") {
            text << std::cin.rdbuf();
        } else {
            std::ifstream file(words[0]);
            if (!file) {
                problem = "cannot read " + words[0];
                return false;
            }
            text << file.rdbuf();
        }
        call.target = "/admin/api/batch";
        call.method = "POST";
        call.body = text.str();
    } else {
        problem = "no such command: " + command;
        return false;
    }
    return true;
}

int call_api(const std::string& command, int argc, char** argv) {
    po::options_description options("haven-admin options");
    options.add_options()("help,h", "show this help")(
        "url", po::value<std::string>(),
        "the server, http(s)://host:port (default: from --config)")(
        "token", po::value<std::string>(),
        "an operator token (default: HAVEN_ADMIN_TOKEN, or one minted with the server's secret)")(
        "config,c", po::value<std::string>()->default_value("config/haven.toml"),
        "the server's configuration")("insecure", "https: do not check the server's certificate")(
        "reason", po::value<std::string>(), "why (disconnect, history-remove, close-room)")(
        "title", po::value<std::string>(), "open-room: the room's title")(
        "topic", po::value<std::string>(), "open-room: the room's topic")(
        "room", po::value<std::string>(), "audit: one room only")(
        "before", po::value<std::string>(), "history: events before this seq")(
        "limit", po::value<std::string>(), "history, audit: how many")(
        "words", po::value<std::vector<std::string>>()->default_value({}, ""), "arguments");
    po::positional_options_description positional;
    positional.add("words", -1);
    po::variables_map args;
    try {
        po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(),
                  args);
        po::notify(args);
    } catch (const po::error& error) {
        return usage_error(error.what());
    }
    if (args.count("help")) {
        std::cout << kApiUsage << "\n" << options << "\n";
        return 0;
    }
    haven::http::OutboundRequest call;
    call.user_agent = "haven-admin";
    std::string problem;
    if (!build_call(command, args["words"].as<std::vector<std::string>>(), args, call, problem)) {
        return usage_error(problem);
    }

    const char* env_token = std::getenv("HAVEN_ADMIN_TOKEN");
    if (args.count("token")) {
        call.bearer = args["token"].as<std::string>();
    } else if (env_token != nullptr && *env_token != '\0') {
        call.bearer = env_token;
    }
    if (args.count("url")) call.url = args["url"].as<std::string>();
    if (call.bearer.empty() || call.url.empty()) {
        const auto loaded = load_config(args["config"].as<std::string>());
        if (!loaded) return kUsage;
        const haven::config::Config& config = *loaded;
        if (call.url.empty()) call.url = url_from_config(config);
        if (call.bearer.empty()) {
            if (config.auth.jwt_hs256_secret.empty()) {
                return usage_error(
                    "no operator token: pass --token, set HAVEN_ADMIN_TOKEN, or give the "
                    "server's HS256 secret (HAVEN_JWT_SECRET or auth.jwt_hs256_secret)");
            }
            call.bearer = operator_token(config);
        }
    }
    call.verify_certificate = !args.count("insecure");

    std::string error;
    const auto response = haven::http::send_http_request(call, error);
    if (!response) {
        std::fprintf(stderr, "haven-admin: %s\n", error.c_str());
        return kUnreachable;
    }
    std::cout << response->body;
    if (!response->body.empty() && response->body.back() != '\n') std::cout << "\n";
    if (response->status < 200 || response->status >= 300) {
        std::fprintf(stderr, "haven-admin: the server answered %u\n", response->status);
        return kRefused;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "token") return mint_token(argc - 1, argv + 1);
    if (command.empty() || command == "--help" || command == "-h") {
        std::fprintf(stderr, "%s", kApiUsage);
        return command.empty() ? kUsage : 0;
    }
    return call_api(command, argc - 1, argv + 1);
}
