#include "auth/json_duplicate_keys.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>

namespace haven::auth {
namespace {

// Tokens are at most a few kilobytes and shallow, so a linear scan of each object's names
// costs less than any set would.
class DuplicateKeyHandler {
public:
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

    bool duplicate_found() const { return duplicate_; }

    bool on_document_begin(boost::json::error_code&) { return true; }
    bool on_document_end(boost::json::error_code&) { return true; }
    bool on_array_begin(boost::json::error_code&) { return true; }
    bool on_array_end(std::size_t, boost::json::error_code&) { return true; }
    bool on_object_begin(boost::json::error_code&) {
        objects_.emplace_back();
        return true;
    }
    bool on_object_end(std::size_t, boost::json::error_code&) {
        objects_.pop_back();
        return true;
    }
    bool on_string_part(boost::json::string_view, std::size_t, boost::json::error_code&) {
        return true;
    }
    bool on_string(boost::json::string_view, std::size_t, boost::json::error_code&) { return true; }
    bool on_key_part(boost::json::string_view part, std::size_t, boost::json::error_code&) {
        key_.append(part.data(), part.size());
        return true;
    }
    bool on_key(boost::json::string_view last, std::size_t, boost::json::error_code& ec) {
        key_.append(last.data(), last.size());
        std::vector<std::string>& names = objects_.back();
        if (std::find(names.begin(), names.end(), key_) != names.end()) {
            duplicate_ = true;
            // Stops the parse: the answer is known.
            ec = boost::json::error::extra_data;
            return false;
        }
        names.push_back(std::move(key_));
        key_.clear();
        return true;
    }
    bool on_number_part(boost::json::string_view, boost::json::error_code&) { return true; }
    bool on_int64(std::int64_t, boost::json::string_view, boost::json::error_code&) { return true; }
    bool on_uint64(std::uint64_t, boost::json::string_view, boost::json::error_code&) {
        return true;
    }
    bool on_double(double, boost::json::string_view, boost::json::error_code&) { return true; }
    bool on_bool(bool, boost::json::error_code&) { return true; }
    bool on_null(boost::json::error_code&) { return true; }
    bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
    bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

private:
    std::vector<std::vector<std::string>> objects_;  // the names seen in each open object
    std::string key_;
    bool duplicate_ = false;
};

}  // namespace

bool has_duplicate_keys(std::string_view json) {
    boost::json::basic_parser<DuplicateKeyHandler> parser{boost::json::parse_options{}};
    boost::json::error_code ec;
    parser.write_some(false, json.data(), json.size(), ec);
    return parser.handler().duplicate_found();
}

}  // namespace haven::auth
