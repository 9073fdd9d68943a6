// A FrameHandler that writes down what it is told, one line per event, for the framing tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "net/ws_frame_reader.hpp"

namespace haven::test {

struct FrameRecorder final : net::ws::FrameHandler {
    std::vector<std::string> events;
    std::vector<std::string_view> views;  // the message views as handed over

    void on_message(std::string_view message, bool text) override {
        events.push_back((text ? "text:" : "binary:") + std::string(message));
        views.push_back(message);
    }
    void on_ping(std::string_view payload) override {
        events.push_back("ping:" + std::string(payload));
    }
    void on_pong(std::string_view payload) override {
        events.push_back("pong:" + std::string(payload));
    }
    void on_close(std::string_view payload) override {
        events.push_back("close:" + std::string(payload));
    }
    void on_protocol_failure(protocol::CloseCode code) override {
        events.push_back("fail:" + std::to_string(static_cast<int>(code)));
    }
};

}  // namespace haven::test
