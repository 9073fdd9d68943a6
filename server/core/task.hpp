// A unit of work handed to a shard: a move-only `void()` callable. Move-only so a task can own
// what it carries (an event, a page of history) outright, with no shared_ptr that exists only
// to make a lambda copyable.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace haven::core {

class Task {
public:
    Task() = default;
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Task>>>
    Task(F&& f) : callable_(std::make_unique<Holder<std::decay_t<F>>>(std::forward<F>(f))) {}

    Task(Task&&) noexcept = default;
    Task& operator=(Task&&) noexcept = default;

    explicit operator bool() const { return callable_ != nullptr; }
    void operator()() { callable_->run(); }

private:
    struct Callable {
        virtual ~Callable() = default;
        virtual void run() = 0;
    };
    template <class F>
    struct Holder final : Callable {
        explicit Holder(F&& f) : f(std::move(f)) {}
        explicit Holder(const F& f) : f(f) {}
        void run() override { f(); }
        F f;
    };
    std::unique_ptr<Callable> callable_;
};

}  // namespace haven::core
