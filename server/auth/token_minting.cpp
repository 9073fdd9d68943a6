#include "auth/token_minting.hpp"

#include <boost/json.hpp>

#include "auth/hs256.hpp"

namespace haven::auth {

std::string mint_hs256_token(const TokenRequest& request, std::string_view secret) {
    boost::json::object claims;
    claims["sub"] = request.subject;
    claims["name"] = request.name;
    claims["role"] = std::string(to_string(request.role));
    if (!request.room_roles.empty()) {
        boost::json::object rooms;
        for (const auto& [room, role] : request.room_roles) {
            rooms[room] = std::string(to_string(role));
        }
        claims["rooms"] = std::move(rooms);
    }
    claims["exp"] = request.expires_at;
    if (!request.issuer.empty()) claims["iss"] = request.issuer;
    if (!request.audience.empty()) claims["aud"] = request.audience;
    return sign_hs256(R"({"alg":"HS256","typ":"JWT"})", boost::json::serialize(claims), secret);
}

}  // namespace haven::auth
