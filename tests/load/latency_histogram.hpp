// A fixed-size log-linear latency histogram (HDR-style): recording is an index computation
// and an increment, with no allocation, so it can sit on the per-delivery path. Values are
// kept in microseconds with 32 sub-buckets per power of two (about 3 % relative precision),
// from 1 µs to about 2^40 µs; percentiles report the upper edge of their bucket, so they err
// on the pessimistic side.
#pragma once

#include <array>
#include <cstdint>

namespace haven::load {

class LatencyHistogram {
public:
    void record_ns(std::int64_t ns) {
        const std::uint64_t us = ns <= 0 ? 0 : static_cast<std::uint64_t>(ns) / 1000;
        ++buckets_[index_of(us)];
        ++count_;
        sum_us_ += us;
        if (us > max_us_) max_us_ = us;
    }

    void merge(const LatencyHistogram& other);
    void reset() { *this = LatencyHistogram{}; }

    std::uint64_t count() const { return count_; }
    std::uint64_t max_us() const { return max_us_; }
    double mean_us() const { return count_ ? static_cast<double>(sum_us_) / count_ : 0.0; }
    // The value at quantile q (0..1), in microseconds; 0 when empty.
    std::uint64_t quantile_us(double q) const;

private:
    static constexpr unsigned kSubBits = 5;              // 32 sub-buckets per power of two
    static constexpr unsigned kLinear = 2u << kSubBits;  // values below 64 map one-to-one
    static constexpr unsigned kMaxExponent = 40;
    static constexpr unsigned kBuckets = kLinear + (kMaxExponent - kSubBits) * (1u << kSubBits);

    static unsigned index_of(std::uint64_t us) {
        if (us < kLinear) return static_cast<unsigned>(us);
        unsigned exponent = 63u - static_cast<unsigned>(__builtin_clzll(us));  // >= kSubBits + 1
        if (exponent >= kMaxExponent) return kBuckets - 1;
        const unsigned shift = exponent - kSubBits;
        // (us >> shift) is in [32, 64): the top bit is the exponent, the rest the sub-bucket.
        return kLinear + (exponent - kSubBits - 1) * (1u << kSubBits) +
               static_cast<unsigned>((us >> shift) - (1u << kSubBits));
    }
    static std::uint64_t upper_edge(unsigned index);

    std::array<std::uint64_t, kBuckets> buckets_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_us_ = 0;
    std::uint64_t max_us_ = 0;
};

}  // namespace haven::load
