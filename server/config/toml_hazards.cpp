// A lexer of just enough TOML to know, at every byte, what toml++ would take it for: inside a
// comment, inside one of the four kinds of string, or elsewhere; and there, whether a quote
// opens a string (toml++ takes a quote inside a bare value such as `1="x"` for part of it, and
// asks of every character up to the value's end whether it is whitespace) and whether a '['
// opens a table header or an array. It agrees with toml++ on every prefix of a document that
// toml++ accepts, which is all that matters: toml++ stops at its first error.
#include "config/toml_hazards.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace haven::config {
namespace {

bool is_ascii(unsigned char c) {
    return c < 0x80;
}

bool is_bare_key_character(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

// Whitespace as toml++ ends a bare value with it, line feeds apart.
bool is_blank(unsigned char c) {
    return c == ' ' || c == '\t' || (c >= '\v' && c <= '\r');
}

// Where the scanner is between strings and comments.
enum class Mode {
    key_start,    // a key (segment) may begin: a quote opens a string
    in_key,       // within or after a key segment, before its '='
    value_start,  // a value may begin: a quote opens a string
    in_value,     // within a bare value (number, date, boolean), up to whitespace , ] } #
    after_value,  // a value ended: only whitespace, a comma, a bracket or a comment belong here
};

class Scanner {
public:
    explicit Scanner(std::string_view text) : text_(text) {}

    std::optional<TextHazard> run() {
        // toml++ skips a byte order mark at the start.
        if (text_.substr(0, 3) == "\xEF\xBB\xBF") i_ = 3;
        while (i_ < text_.size() && !hazard_) step();
        return hazard_;
    }

private:
    unsigned char at(std::size_t i) const { return static_cast<unsigned char>(text_[i]); }

    // Outside strings and comments.
    void step() {
        const unsigned char c = at(i_);
        if (!is_ascii(c)) {
            return report(i_, "only ASCII is allowed outside strings and comments (got " +
                                  describe(i_) + ")");
        }
        if (c == '\n') return line_feed();
        if (is_blank(c)) {
            if (mode_ == Mode::in_value && c == ' ') check_time_after_date();
            if (mode_ == Mode::in_value) mode_ = Mode::after_value;
            ++i_;
            return;
        }
        const bool table_header = line_start_ && open_.empty() && c == '[';
        line_start_ = false;
        if (table_header) return start_table_header();
        const bool opens = mode_ == Mode::key_start || mode_ == Mode::value_start;
        const bool key = mode_ == Mode::key_start || mode_ == Mode::in_key;
        switch (c) {
            case '#':
                // To the end of the line; a lone CR ends it too (toml++ refuses one).
                while (i_ < text_.size() && at(i_) != '\n' && at(i_) != '\r') ++i_;
                if (mode_ == Mode::in_value) mode_ = Mode::after_value;
                return;
            case '"':
            case '\'':
                if (!opens) break;
                string(static_cast<char>(c));
                mode_ = key ? Mode::in_key : Mode::after_value;
                return;
            case '.':
                if (key) {
                    mode_ = Mode::key_start;
                    ++i_;
                    return;
                }
                break;
            case '=':
                if (key) {
                    mode_ = Mode::value_start;
                    ++i_;
                    return;
                }
                break;
            case ',':
                if (mode_ != Mode::key_start && !open_.empty()) {
                    mode_ = open_.back() == '{' ? Mode::key_start : Mode::value_start;
                    ++i_;
                    return;
                }
                break;
            case '[':
            case '{':
                if (mode_ == Mode::value_start) {
                    open_.push_back(static_cast<char>(c));
                    mode_ = c == '{' ? Mode::key_start : Mode::value_start;
                    ++i_;
                    return;
                }
                break;
            case ']':
            case '}':
                // Closes an array or inline table, or the table header on this line.
                if (mode_ == Mode::in_key && !header_line_) break;
                // Where an array expects a value, toml++ assumes nothing else ends one there.
                if (c == '}' && mode_ == Mode::value_start && !open_.empty() &&
                    open_.back() == '[') {
                    return report(i_, "a '}' cannot close an array");
                }
                if (!open_.empty()) open_.pop_back();
                mode_ = Mode::after_value;
                ++i_;
                return;
            default:
                break;
        }
        // Anything else is part of a key or of a bare value.
        if (mode_ == Mode::key_start) mode_ = Mode::in_key;
        if (mode_ == Mode::value_start) {
            mode_ = Mode::in_value;
            value_begin_ = i_;
        }
        if (mode_ == Mode::in_value && (c == 'T' || c == 't')) check_date_time();
        ++i_;
    }

    // At a 'T' in a bare value: after a date, toml++ assumes the time starts with a digit.
    void check_date_time() {
        if (i_ - value_begin_ != 10) return;
        const std::string_view date = text_.substr(value_begin_, 10);
        for (std::size_t k = 0; k < date.size(); ++k) {
            const bool dash = k == 4 || k == 7;
            if (dash ? date[k] != '-' : (date[k] < '0' || date[k] > '9')) return;
        }
        const std::size_t next = i_ + 1;
        if (next >= text_.size() || (at(next) >= '0' && at(next) <= '9')) return;
        if (!is_ascii(at(next))) return;  // reported by step() when it gets there
        report(next,
               "a date-time must have its time right after the T (got " + describe(next) + ")");
    }

    // At a space ending a bare value shaped like a date ("1979-05-27 07:32:00" may use a space
    // for the T): toml++ then reads a time, and assumes a lone digit is not all of its hour.
    // It judges the shape on the value's characters with its underscores left out, so
    // "1_9_7_9-05-27" is one too.
    void check_time_after_date() {
        std::string shape;
        for (std::size_t k = value_begin_; k < i_ && shape.size() <= 10; ++k) {
            if (at(k) != '_') shape.push_back(static_cast<char>(at(k)));
        }
        if (shape.size() != 10 || shape[4] != '-' || shape[7] != '-') return;
        const std::size_t hour = i_ + 1;
        const auto digit = [this](std::size_t k) { return at(k) >= '0' && at(k) <= '9'; };
        if (hour + 1 >= text_.size() || !digit(hour) || digit(hour + 1)) return;
        report(hour, "a time after a date needs a two-digit hour (got " + describe(hour) + ")");
    }

    void line_feed() {
        ++i_;
        if (mode_ == Mode::in_value) mode_ = Mode::after_value;
        if (!open_.empty()) return;  // an array may span lines
        line_start_ = true;
        header_line_ = false;
        mode_ = Mode::key_start;
    }

    void string(char quote) {
        const std::string_view triple = quote == '"' ? "\"\"\"" : "'''";
        if (text_.substr(i_, 3) == triple) {
            i_ += 3;
            return quote == '"' ? multi_line_basic_string() : multi_line_literal_string();
        }
        ++i_;
        single_line_string(quote);
    }

    // A '[' at the start of a line, outside any array: "[" or "[[", spaces, then the key.
    void start_table_header() {
        header_line_ = true;
        mode_ = Mode::key_start;
        std::size_t j = skip_blanks(i_ + 1);
        const bool spaced = j > i_ + 1;
        i_ = j;
        if (j < text_.size() && at(j) == '[') {
            if (spaced) return;  // "[ [": toml++ refuses it itself
            j = skip_blanks(j + 1);
            i_ = j;
        }
        if (j >= text_.size()) return;
        const unsigned char c = at(j);
        // Outside ASCII is reported by step() when it gets there.
        if (!is_ascii(c) || is_bare_key_character(c) || c == '"' || c == '\'' || c == ']') return;
        report(j, "a table header must start with a key (got " + describe(j) + ")");
    }

    std::size_t skip_blanks(std::size_t j) const {
        while (j < text_.size() && (at(j) == ' ' || at(j) == '\t')) ++j;
        return j;
    }

    // "..." or '...', which end at their quote or, unclosed, at the end of the line.
    void single_line_string(char quote) {
        while (i_ < text_.size()) {
            const unsigned char c = at(i_);
            if (c == '\n') return;
            ++i_;
            if (c == static_cast<unsigned char>(quote)) return;
            if (c == '\\' && quote == '"' && i_ < text_.size() && at(i_) != '\n') ++i_;
        }
    }

    // After the opening quotes: true when the quote run at i_ closed the string.
    bool closing_quotes(char quote) {
        std::size_t run = 0;
        while (i_ + run < text_.size() && text_[i_ + run] == quote) ++run;
        // Three end the string; a fourth and fifth belong to it; a sixth starts something new.
        i_ += std::min<std::size_t>(run, 5);
        return run >= 3;
    }

    void multi_line_literal_string() {
        while (i_ < text_.size()) {
            if (text_[i_] == '\'') {
                if (closing_quotes('\'')) return;
            } else {
                ++i_;
            }
        }
    }

    void multi_line_basic_string() {
        while (i_ < text_.size()) {
            const unsigned char c = at(i_);
            if (c == '"') {
                if (closing_quotes('"')) return;
                continue;
            }
            if (c != '\\') {
                ++i_;
                continue;
            }
            // toml++ asks whether the character after the backslash is whitespace; when it
            // is, the backslash ends the line and toml++ asks the same of every character
            // until the first that is not space, tab or line break.
            std::size_t j = i_ + 1;
            while (j < text_.size() &&
                   (at(j) == ' ' || at(j) == '\t' || at(j) == '\r' || at(j) == '\n')) {
                ++j;
            }
            if (j < text_.size() && !is_ascii(at(j))) {
                return report(j,
                              "in a multi-line string the first character after a backslash "
                              "(and the line break and indentation it removes) must be ASCII "
                              "(got " +
                                  describe(j) + "); write it as " + escape(j));
            }
            // An escape takes the character after it along; a line-ending backslash does not.
            i_ = j == i_ + 1 ? j + 1 : j;
        }
    }

    // The character starting at `i`, decoded; nothing when the bytes there are not UTF-8.
    std::optional<std::uint32_t> code_point(std::size_t i) const {
        const unsigned char lead = at(i);
        if (is_ascii(lead)) return lead;
        std::size_t length = 0;
        std::uint32_t code = 0;
        if (lead >= 0xF0) {
            length = 4, code = lead & 0x07;
        } else if (lead >= 0xE0) {
            length = 3, code = lead & 0x0F;
        } else if (lead >= 0xC0) {
            length = 2, code = lead & 0x1F;
        } else {
            return std::nullopt;  // a continuation byte without its lead
        }
        for (std::size_t k = 1; k < length; ++k) {
            if (i + k >= text_.size() || (at(i + k) & 0xC0) != 0x80) return std::nullopt;
            code = (code << 6) | (at(i + k) & 0x3F);
        }
        return code;
    }

    // The character at `i` for a message: 'x', or U+XXXX for anything else.
    std::string describe(std::size_t i) const {
        const unsigned char c = at(i);
        if (c >= 0x21 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
        char buffer[40];
        if (const auto code = code_point(i)) {
            std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(*code));
        } else {
            std::snprintf(buffer, sizeof buffer, "byte 0x%02X, which is not UTF-8", c);
        }
        return buffer;
    }

    // How to write the character at `i` in a basic string instead: \uXXXX or \UXXXXXXXX.
    std::string escape(std::size_t i) const {
        const std::uint32_t code = code_point(i).value_or(0xFFFD);
        char buffer[16];
        std::snprintf(buffer, sizeof buffer, code > 0xFFFF ? "\\U%08X" : "\\u%04X",
                      static_cast<unsigned>(code));
        return buffer;
    }

    void report(std::size_t offset, std::string what) {
        TextHazard hazard;
        const std::size_t newline =
            offset == 0 ? std::string_view::npos : text_.rfind('\n', offset - 1);
        const std::size_t first = newline == std::string_view::npos ? 0 : newline + 1;
        hazard.line =
            1 + static_cast<std::size_t>(std::count(text_.begin(), text_.begin() + first, '\n'));
        // toml++ counts characters, so continuation bytes do not move the column.
        hazard.column = 1 + static_cast<std::size_t>(std::count_if(
                                text_.begin() + first, text_.begin() + offset, [](char b) {
                                    return (static_cast<unsigned char>(b) & 0xC0) != 0x80;
                                }));
        hazard.what = std::move(what);
        hazard_ = std::move(hazard);
    }

    std::string_view text_;
    std::size_t i_ = 0;
    Mode mode_ = Mode::key_start;
    std::size_t value_begin_ = 0;  // where the bare value being read started
    std::string open_;             // the '[' and '{' of the arrays and inline tables open here
    bool line_start_ = true;       // nothing but blanks yet on this line, outside any array
    bool header_line_ = false;     // this line is a table header
    std::optional<TextHazard> hazard_;
};

}  // namespace

std::optional<TextHazard> find_toml_hazard(std::string_view text) {
    return Scanner(text).run();
}

}  // namespace haven::config
