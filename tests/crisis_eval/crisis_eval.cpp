// Scores the crisis detector on the labelled sentences in tests/crisis_eval/{dev,held_out}:
// precision, recall and F1 of "this post needs a human" (urgent or concern) per locale and per
// concept, and how often the severity is right. Exits 1 when any locale falls under the
// floor on the two sets together.
//
// dev/ is what the rules are tuned on; held_out/ was written separately and is never used for
// tuning, so its figures say how the lists do on sentences they have not seen. Misses are
// printed for dev/ only (--show-misses), to keep it that way.
//
//   haven_crisis_eval <crisis lists dir> <eval dir> [--show-misses] [--dev-only] [--floor 0.9]
// --dev-only scores dev/ alone, for tuning without looking at held_out/ at all.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "moderation/crisis_detector.hpp"

namespace {

using haven::moderation::CrisisDetector;
using haven::moderation::CrisisSeverity;

struct Sample {
    std::string label;  // urgent, concern, none
    std::string kind;   // the concept or the false-alarm context
    std::string text;
};

std::vector<Sample> read_samples(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read " + file.string());
    std::vector<Sample> samples;
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty()) continue;
        const std::size_t first = line.find('\t');
        const std::size_t second = first == std::string::npos ? first : line.find('\t', first + 1);
        if (second == std::string::npos) {
            throw std::runtime_error(file.string() + ":" + std::to_string(number) +
                                     ": expected label<TAB>kind<TAB>text");
        }
        Sample sample{line.substr(0, first), line.substr(first + 1, second - first - 1),
                      line.substr(second + 1)};
        if (sample.label != "urgent" && sample.label != "concern" && sample.label != "none") {
            throw std::runtime_error(file.string() + ":" + std::to_string(number) +
                                     ": label must be urgent, concern or none");
        }
        samples.push_back(std::move(sample));
    }
    return samples;
}

struct Counts {
    std::size_t true_positive = 0;
    std::size_t false_positive = 0;
    std::size_t false_negative = 0;
    std::size_t true_negative = 0;
    std::size_t severity_right = 0;  // among true positives

    void add(const Counts& other) {
        true_positive += other.true_positive;
        false_positive += other.false_positive;
        false_negative += other.false_negative;
        true_negative += other.true_negative;
        severity_right += other.severity_right;
    }
    double precision() const {
        const std::size_t flagged = true_positive + false_positive;
        return flagged == 0 ? 1.0 : static_cast<double>(true_positive) / flagged;
    }
    double recall() const {
        const std::size_t positives = true_positive + false_negative;
        return positives == 0 ? 1.0 : static_cast<double>(true_positive) / positives;
    }
    double f1() const {
        const double p = precision();
        const double r = recall();
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }
};

void print_row(const std::string& name, const Counts& counts) {
    const std::size_t total =
        counts.true_positive + counts.false_positive + counts.false_negative + counts.true_negative;
    std::printf("  %-22s n=%-4zu P %.2f  R %.2f  F1 %.2f  severity right %zu/%zu\n", name.c_str(),
                total, counts.precision(), counts.recall(), counts.f1(), counts.severity_right,
                counts.true_positive);
}

struct SetScore {
    std::map<std::string, Counts> by_locale;
    std::map<std::string, Counts> by_kind;
};

SetScore score_set(const CrisisDetector& detector, const std::filesystem::path& directory,
                   bool show_misses) {
    SetScore score;
    std::set<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
        if (entry.path().extension() == ".tsv") files.insert(entry.path());
    }
    for (const std::filesystem::path& file : files) {
        const std::string locale = file.stem().string();
        for (const Sample& sample : read_samples(file)) {
            const auto match = detector.scan(sample.text);
            const bool positive = sample.label != "none";
            Counts one;
            if (positive && match) {
                ++one.true_positive;
                const bool urgent = match->severity == CrisisSeverity::urgent;
                if (urgent == (sample.label == "urgent")) ++one.severity_right;
            } else if (positive) {
                ++one.false_negative;
            } else if (match) {
                ++one.false_positive;
            } else {
                ++one.true_negative;
            }
            score.by_locale[locale].add(one);
            score.by_kind[sample.label == "none" ? "none/" + sample.kind : sample.kind].add(one);
            if (show_misses && (one.false_negative || one.false_positive)) {
                std::printf("  %s %s %-13s %s%s%s\n", locale.c_str(),
                            one.false_negative ? "MISSED " : "FLAGGED", sample.kind.c_str(),
                            sample.text.c_str(), match ? "   <- " : "",
                            match ? match->rule.c_str() : "");
            }
        }
    }
    return score;
}

void print_set(const std::string& title, const SetScore& score) {
    std::printf("%s\n", title.c_str());
    Counts all;
    for (const auto& [locale, counts] : score.by_locale) {
        print_row(locale, counts);
        all.add(counts);
    }
    print_row("all", all);
    std::printf(" by concept (positives: recall; false-alarm contexts: share left alone)\n");
    for (const auto& [kind, counts] : score.by_kind) {
        const std::size_t total = counts.true_positive + counts.false_positive +
                                  counts.false_negative + counts.true_negative;
        const std::size_t right = counts.true_positive + counts.true_negative;
        std::printf("  %-22s %zu/%zu\n", kind.c_str(), right, total);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr,
                     "usage: %s <crisis lists dir> <eval dir> [--show-misses] [--floor F]\n",
                     argv[0]);
        return 2;
    }
    bool show_misses = false;
    bool dev_only = false;
    double floor = 0.9;
    for (int i = 3; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--show-misses") {
            show_misses = true;
        } else if (arg == "--dev-only") {
            dev_only = true;
        } else if (arg == "--floor" && i + 1 < argc) {
            floor = std::strtod(argv[++i], nullptr);
        } else {
            std::fprintf(stderr, "unknown argument %s\n", arg.c_str());
            return 2;
        }
    }
    try {
        const CrisisDetector detector(haven::moderation::load_crisis_lists(argv[1]));
        const std::filesystem::path eval = argv[2];
        const SetScore dev = score_set(detector, eval / "dev", show_misses);
        print_set("dev (the rules are tuned on these)", dev);
        if (dev_only) return 0;
        const SetScore held_out = score_set(detector, eval / "held_out", false);
        print_set("held_out (never used for tuning)", held_out);
        int failures = 0;
        std::printf("both sets, against the floor %.2f (F1 and recall)\n", floor);
        for (const auto& [locale, dev_counts] : dev.by_locale) {
            Counts both = dev_counts;
            if (const auto found = held_out.by_locale.find(locale);
                found != held_out.by_locale.end()) {
                both.add(found->second);
            }
            const bool ok = both.f1() >= floor && both.recall() >= floor;
            print_row(locale + (ok ? "" : "  UNDER THE FLOOR"), both);
            failures += ok ? 0 : 1;
        }
        return failures == 0 ? 0 : 1;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "crisis eval: %s\n", error.what());
        return 2;
    }
}
