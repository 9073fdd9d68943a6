// The moderation queue counted: every open item by id, from the stored queue read at start
// and each item published after it (RESOLVED closes the one it names, CLAIMED gives it an
// owner, ESCALATED records its step, AUTHOR_LEFT that its author was reported gone), so
// /metrics can say what waits for a moderator and for how long, the escalation ladder knows
// what nobody has answered, and a departure can be matched to the crisis alerts its person
// raised. Kept by shard 0 (rooms/server_wide).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "haven.pb.h"

namespace haven::moderation {

class OpenQueue {
public:
    // Disjoint counts: urgent items first (crisis, crisis flags), then held posts, then flags.
    struct Summary {
        std::uint64_t urgent = 0;
        std::uint64_t held = 0;
        std::uint64_t flagged = 0;
        std::uint64_t oldest_urgent_ms = 0;  // wall time; 0 when none is open
        std::uint64_t unclaimed_urgent = 0;  // urgent items nobody has claimed yet
    };

    // An open item nobody has claimed that climbs the escalation ladder: an urgent one, or a
    // held post (its author waits for an answer).
    struct Waiting {
        std::string id;
        std::string room_id;
        std::uint64_t time_ms = 0;
        std::uint32_t escalation = 0;  // the step reached so far
        bool urgent = false;           // only urgent items reach the webhook
    };

    // A held post that has waited its time: the room's policy decides it now.
    struct Overdue {
        std::string id;
        std::string room_id;
        std::string hold_id;
    };

    // An open crisis alert raised by one person's post, as a departure is matched to it.
    struct CrisisByAuthor {
        std::string id;
        std::uint64_t time_ms = 0;
        std::string claimed_by;  // the owner's handle and subject; empty: nobody yet
        std::string claimed_by_subject;
    };

    // Replaces what is known with the stored queue.
    void load(const std::vector<v1::ModerationItem>& items);
    void apply(const v1::ModerationItem& item);
    Summary summary() const;
    std::vector<Waiting> on_the_ladder() const;
    // Held posts waiting since before `mine_before_ms` whose author is on the instance whose
    // member ids begin with `instance_prefix`, or since before `others_before_ms`: their
    // author's instance, which can tell them, goes first; the others take over if it is gone.
    std::vector<Overdue> overdue_held(std::uint64_t mine_before_ms, std::uint64_t others_before_ms,
                                      const std::string& instance_prefix) const;
    // The open crisis alerts that `subject`'s posts in `room_id` raised at `since_ms` or later
    // and whose author has not been reported gone yet.
    std::vector<CrisisByAuthor> crisis_by(const std::string& room_id, const std::string& subject,
                                          std::uint64_t since_ms) const;
    bool is_open(const std::string& id) const { return open_.count(id) != 0; }
    // Whom an open crisis alert or held post is about, and who owns it: for a check-in.
    struct AboutWhom {
        std::string room_id;
        std::string author_subject;
        std::string claimed_by;
        std::string claimed_by_subject;
    };
    std::optional<AboutWhom> about_whom(const std::string& id) const;
    std::size_t size() const { return open_.size(); }

private:
    struct Open {
        v1::ModerationItem::Kind kind = v1::ModerationItem::KIND_UNSPECIFIED;
        bool urgent = false;
        std::uint64_t time_ms = 0;
        std::string room_id;
        bool claimed = false;
        std::uint32_t escalation = 0;
        std::string author_key;  // crisis items: author_key(room, subject) of the post
        std::string claimed_by;
        std::string claimed_by_subject;
        bool author_left = false;
        std::string author_subject;    // crisis alerts and held posts: whose post it is
        std::string hold_id;           // held posts
        std::string author_member_id;  // held posts: "<instance>-<session>" of their author
    };
    static std::string author_key(const std::string& room_id, const std::string& subject);
    void erase(const std::string& id);

    std::unordered_map<std::string, Open> open_;
    // Crisis item ids by author_key, so a departure is matched without a scan of the queue.
    std::unordered_multimap<std::string, std::string> crisis_by_author_;
};

}  // namespace haven::moderation
