// haven-admin: the operator's command line.
//
//   haven-admin token --role moderator --rooms lobby,grief-and-loss --name "Ana" [--hours 12]
//
// prints an identity token signed with the server's auth.jwt_hs256_secret (from
// HAVEN_JWT_SECRET, or from the configuration file), so a new moderator can sign in before an
// identity system is connected: paste it into the web client's "Sign in with a token". The
// token carries the server's auth.jwt_issuer and auth.jwt_audience when they are set.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>

#include <boost/program_options.hpp>

#include "auth/token_minting.hpp"
#include "config/config.hpp"

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
    haven::config::Config config;
    try {
        config = haven::config::load_config_file(args["config"].as<std::string>());
    } catch (const haven::config::ConfigError& error) {
        std::fprintf(stderr, "%s\n", error.what());
        return kUsage;
    }
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

}  // namespace

int main(int argc, char** argv) {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "token") return mint_token(argc - 1, argv + 1);
    std::fprintf(stderr,
                 "usage: haven-admin token [--role ROLE] [--rooms a,b] [--name NAME] "
                 "[--subject ID] [--hours N] [--config FILE]\n");
    return command == "--help" || command == "-h" ? 0 : kUsage;
}
