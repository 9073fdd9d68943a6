// A scratch directory of crisis list files for the tests that load them.
#pragma once

#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>

#include "moderation/crisis_detector.hpp"

namespace haven::test {

// A scratch directory with one crisis list file, removed again at the end of the test.
class ScratchLists {
public:
    ScratchLists() {
        std::random_device seed;
        directory_ = std::filesystem::temp_directory_path() /
                     ("haven-crisis-test-" + std::to_string(seed()));
        std::filesystem::create_directories(directory_);
    }
    ~ScratchLists() {
        std::error_code ignored;
        std::filesystem::remove_all(directory_, ignored);
    }
    ScratchLists(const ScratchLists&) = delete;
    ScratchLists& operator=(const ScratchLists&) = delete;

    std::string write(const std::string& name, const std::string& contents) const {
        const std::filesystem::path path = directory_ / name;
        std::ofstream(path) << contents;
        return path.string();
    }
    std::string directory() const { return directory_.string(); }

    // The error message from loading, or "" when it loaded.
    std::string load_error() const {
        try {
            haven::moderation::load_crisis_lists(directory());
        } catch (const std::runtime_error& error) {
            return error.what();
        }
        return "";
    }

private:
    std::filesystem::path directory_;
};

inline const std::string kGoodResource = "[[resources]]\nname = \"Line\"\nphone = \"123\"\n";

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace haven::test
