#include "latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace haven::load {

void LatencyHistogram::merge(const LatencyHistogram& other) {
    for (unsigned i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
    count_ += other.count_;
    sum_us_ += other.sum_us_;
    max_us_ = std::max(max_us_, other.max_us_);
}

std::uint64_t LatencyHistogram::upper_edge(unsigned index) {
    if (index < kLinear) return index;
    const unsigned offset = index - kLinear;
    const unsigned exponent = offset / (1u << kSubBits) + kSubBits + 1;
    const unsigned sub = offset % (1u << kSubBits);
    const unsigned shift = exponent - kSubBits;
    // The largest value that maps to this bucket.
    return ((std::uint64_t{(1u << kSubBits) + sub + 1}) << shift) - 1;
}

std::uint64_t LatencyHistogram::quantile_us(double q) const {
    if (count_ == 0) return 0;
    q = std::clamp(q, 0.0, 1.0);
    // The rank of the sample that the quantile names (1-based), as most tools define it.
    const auto rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (unsigned i = 0; i < kBuckets; ++i) {
        seen += buckets_[i];
        if (seen >= rank) return std::min(upper_edge(i), max_us_);
    }
    return max_us_;
}

}  // namespace haven::load
