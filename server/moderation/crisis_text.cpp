// Reading a post for crisis matching: UTF-8 decoding, folding to a-z, look-alike
// characters, and the sentences and clauses words belong to. The rules are described in
// crisis_detector.hpp, step 1; each lives in its own small function here.
#include "moderation/crisis_text.hpp"

#include <algorithm>
#include <optional>
#include <span>

namespace haven::moderation {
namespace {

// ---- reading UTF-8 ---------------------------------------------------------------------------

struct CodePoint {
    char32_t value;
    std::size_t length;  // bytes consumed
};

constexpr char32_t kReplacementCharacter = 0xFFFD;

// Malformed bytes decode as U+FFFD one byte at a time: they then separate words like any
// other unknown character, and scanning never stops early on hostile input.
CodePoint decode_utf8(std::string_view text, std::size_t pos) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    if (lead < 0x80) return {lead, 1};
    std::size_t length = 0;
    char32_t value = 0;
    if ((lead & 0xE0) == 0xC0) {
        length = 2;
        value = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3;
        value = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4;
        value = lead & 0x07;
    } else {
        return {kReplacementCharacter, 1};
    }
    if (pos + length > text.size()) return {kReplacementCharacter, 1};
    for (std::size_t i = 1; i < length; ++i) {
        const auto byte = static_cast<unsigned char>(text[pos + i]);
        if ((byte & 0xC0) != 0x80) return {kReplacementCharacter, 1};
        value = (value << 6) | (byte & 0x3F);
    }
    return {value, length};
}

// ---- classifying characters ------------------------------------------------------------------

enum class UnitKind : std::uint8_t { letter, look_alike, separator };

// What a separator ends, besides a word.
enum class Boundary : std::uint8_t { word, clause, sentence };

// One character of the post, reduced to what matching needs.
struct Unit {
    UnitKind kind = UnitKind::separator;
    char source = '\0';        // look-alikes: the character as typed ('1', '$', ...)
    char letters[2] = {0, 0};  // a-z; a second letter only for "ß" -> "ss" and the like
    Boundary boundary = Boundary::word;
    std::uint32_t begin = 0;  // the character's bytes in the text
    std::uint32_t end = 0;
};

Unit letter(char first, char second = '\0') {
    return {UnitKind::letter, '\0', {first, second}};
}
Unit look_alike(char source, char reads_as) {
    return {UnitKind::look_alike, source, {reads_as, 0}};
}
Unit separator(Boundary boundary = Boundary::word) {
    Unit unit;
    unit.boundary = boundary;
    return unit;
}

Boundary ascii_boundary(char c) {
    switch (c) {
        case '.':
        case '!':
        case '?':
        case '\n':
        case '\r':
            return Boundary::sentence;
        case ',':
        case ';':
        case ':':
            return Boundary::clause;
        default:
            return Boundary::word;
    }
}

Boundary boundary_of(char32_t cp) {
    if (cp < 0x80) return ascii_boundary(static_cast<char>(cp));
    switch (cp) {
        case 0xA1:    // ¡
        case 0xBF:    // ¿
        case 0x2026:  // …
        case 0x3002:  // 。
            return Boundary::sentence;
        case 0x2013:  // –
        case 0x2014:  // —
            return Boundary::clause;
        default:
            return Boundary::word;
    }
}

bool is_symbol_look_alike(const Unit& unit) {
    return unit.kind == UnitKind::look_alike && (unit.source < '0' || unit.source > '9');
}

// Characters that commonly stand in for letters when people dodge filters. 2, 6, 8 and 9
// have no single reading and separate words instead.
char look_alike_reading(char c) {
    switch (c) {
        case '0':
            return 'o';
        case '1':
        case '!':
        case '|':
            return 'i';
        case '3':
            return 'e';
        case '4':
        case '@':
            return 'a';
        case '5':
        case '$':
            return 's';
        case '7':
            return 't';
        default:
            return '\0';
    }
}

// Base letters for U+00C0..U+00FF. '*' marks characters that are not one base letter:
// Æ æ Þ þ ß become two letters, × ÷ separate words.
constexpr std::string_view kLatin1BaseLetters =
    "aaaaaa*ceeeeiiiidnooooo*ouuuuy**aaaaaa*ceeeeiiiidnooooo*ouuuuy*y";
static_assert(kLatin1BaseLetters.size() == 0x40);

// Base letters for U+0100..U+017F (Latin Extended-A); '*' marks the ligatures Ĳ ĳ Œ œ.
constexpr std::string_view kLatinExtendedABaseLetters =
    "aaaaaa"        // U+0100 Ā ā Ă ă Ą ą
    "cccccccc"      // U+0106 Ć ć Ĉ ĉ Ċ ċ Č č
    "dddd"          // U+010E Ď ď Đ đ
    "eeeeeeeeee"    // U+0112 Ē ē Ĕ ĕ Ė ė Ę ę Ě ě
    "gggggggg"      // U+011C Ĝ ĝ Ğ ğ Ġ ġ Ģ ģ
    "hhhh"          // U+0124 Ĥ ĥ Ħ ħ
    "iiiiiiiiii"    // U+0128 Ĩ ĩ Ī ī Ĭ ĭ Į į İ ı
    "**"            // U+0132 Ĳ ĳ
    "jj"            // U+0134 Ĵ ĵ
    "kkk"           // U+0136 Ķ ķ ĸ
    "llllllllll"    // U+0139 Ĺ ĺ Ļ ļ Ľ ľ Ŀ ŀ Ł ł
    "nnnnnnnnn"     // U+0143 Ń ń Ņ ņ Ň ň ŉ Ŋ ŋ
    "oooooo"        // U+014C Ō ō Ŏ ŏ Ő ő
    "**"            // U+0152 Œ œ
    "rrrrrr"        // U+0154 Ŕ ŕ Ŗ ŗ Ř ř
    "ssssssss"      // U+015A Ś ś Ŝ ŝ Ş ş Š š
    "tttttt"        // U+0162 Ţ ţ Ť ť Ŧ ŧ
    "uuuuuuuuuuuu"  // U+0168 Ũ ũ Ū ū Ŭ ŭ Ů ů Ű ű Ų ų
    "ww"            // U+0174 Ŵ ŵ
    "yyy"           // U+0176 Ŷ ŷ Ÿ
    "zzzzzz"        // U+0179 Ź ź Ż ż Ž ž
    "s";            // U+017F ſ
static_assert(kLatinExtendedABaseLetters.size() == 0x80);

Unit fold_latin1(char32_t cp) {
    switch (cp) {
        case 0xC6:  // Æ
        case 0xE6:  // æ
            return letter('a', 'e');
        case 0xDE:  // Þ
        case 0xFE:  // þ
            return letter('t', 'h');
        case 0xDF:  // ß
            return letter('s', 's');
        default:
            break;
    }
    const char base = kLatin1BaseLetters[cp - 0xC0];
    return base == '*' ? separator() : letter(base);
}

Unit fold_latin_extended_a(char32_t cp) {
    switch (cp) {
        case 0x132:  // Ĳ
        case 0x133:  // ĳ
            return letter('i', 'j');
        case 0x152:  // Œ
        case 0x153:  // œ
            return letter('o', 'e');
        default:
            return letter(kLatinExtendedABaseLetters[cp - 0x100]);
    }
}

// Characters with no visible width or that only decorate the previous letter: dropping them
// (rather than separating words) undoes "s\u200Buicide" and decomposed accents ("i\u0301").
bool is_invisible(char32_t cp) {
    return (cp >= 0x300 && cp <= 0x36F)       // combining diacritical marks
           || (cp >= 0x1AB0 && cp <= 0x1AFF)  // combining marks, extended
           || (cp >= 0x1DC0 && cp <= 0x1DFF)  // combining marks, supplement
           || (cp >= 0x20D0 && cp <= 0x20FF)  // combining marks for symbols
           || (cp >= 0xFE00 && cp <= 0xFE0F)  // variation selectors
           || (cp >= 0x200B && cp <= 0x200D)  // zero-width space, non-joiner, joiner
           || cp == 0x00AD                    // soft hyphen
           || cp == 0x2060                    // word joiner
           || cp == 0xFEFF;                   // zero-width no-break space
}

Unit classify_ascii(char c) {
    if (c >= 'A' && c <= 'Z') return letter(static_cast<char>(c - 'A' + 'a'));
    if (c >= 'a' && c <= 'z') return letter(c);
    if (const char reading = look_alike_reading(c)) return look_alike(c, reading);
    return separator(ascii_boundary(c));
}

// Nothing for characters to drop; otherwise the unit the character stands for.
std::optional<Unit> classify(char32_t cp) {
    constexpr char32_t kFullwidthFirst = 0xFF01;  // fullwidth '!'
    constexpr char32_t kFullwidthLast = 0xFF5E;   // fullwidth '~'
    constexpr char32_t kFullwidthOffset = 0xFEE0;
    if (cp >= kFullwidthFirst && cp <= kFullwidthLast) cp -= kFullwidthOffset;
    if (cp < 0x80) return classify_ascii(static_cast<char>(cp));
    if (is_invisible(cp)) return std::nullopt;
    if (cp >= 0xC0 && cp <= 0xFF) return fold_latin1(cp);
    if (cp >= 0x100 && cp <= 0x17F) return fold_latin_extended_a(cp);
    return separator(boundary_of(cp));
}

std::vector<Unit> decode_units(std::string_view text) {
    std::vector<Unit> units;
    units.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        const CodePoint cp = decode_utf8(text, pos);
        if (auto unit = classify(cp.value)) {
            unit->begin = static_cast<std::uint32_t>(pos);
            unit->end = static_cast<std::uint32_t>(pos + cp.length);
            units.push_back(*unit);
        }
        pos += cp.length;
    }
    return units;
}

// ---- look-alikes -----------------------------------------------------------------------------

// A look-alike read one way or the other keeps its place in the text.
Unit read_as_separator(const Unit& unit) {
    Unit read =
        separator(unit.kind == UnitKind::look_alike ? ascii_boundary(unit.source) : unit.boundary);
    read.begin = unit.begin;
    read.end = unit.end;
    return read;
}

Unit read_as_letter(const Unit& unit) {
    Unit read = letter(unit.letters[0]);
    read.begin = unit.begin;
    read.end = unit.end;
    return read;
}

// Decides what the look-alikes in one token (a run without separators) mean. A token with
// no real letter is a number or an emoticon and stays out of matching ("24/7", "10:30",
// "<3"). In a token with letters, digits read as letters; symbols only between letters, so
// trailing "!!!" and a leading "@" of a mention stay punctuation. A leading '$' is the one
// exception, because "$uicide" is how it is usually used.
void resolve_token(std::span<Unit> token) {
    const bool has_letter = std::any_of(token.begin(), token.end(),
                                        [](const Unit& u) { return u.kind == UnitKind::letter; });
    if (!has_letter) {
        for (Unit& unit : token) unit = read_as_separator(unit);
        return;
    }
    std::size_t begin = 0;
    std::size_t end = token.size();
    while (begin < end && is_symbol_look_alike(token[begin]) && token[begin].source != '$') {
        token[begin] = read_as_separator(token[begin]);
        ++begin;
    }
    while (end > begin && is_symbol_look_alike(token[end - 1])) {
        --end;
        token[end] = read_as_separator(token[end]);
    }
    for (std::size_t i = begin; i < end; ++i) {
        if (token[i].kind == UnitKind::look_alike) token[i] = read_as_letter(token[i]);
    }
}

void resolve_look_alikes(std::vector<Unit>& units) {
    std::size_t start = 0;
    while (start < units.size()) {
        if (units[start].kind == UnitKind::separator) {
            ++start;
            continue;
        }
        std::size_t end = start;
        while (end < units.size() && units[end].kind != UnitKind::separator) ++end;
        resolve_token(std::span<Unit>(units).subspan(start, end - start));
        start = end;
    }
}

// Letters as words, each run of one letter within a word collapsed to one letter, with the
// sentence and clause each word belongs to.
std::vector<MatchWord> render_words(const std::vector<Unit>& units) {
    std::vector<MatchWord> words;
    std::uint32_t sentence = 0;
    std::uint32_t clause = 0;
    Boundary pending = Boundary::word;  // the strongest boundary since the last word
    bool in_word = false;
    for (const Unit& unit : units) {
        if (unit.kind != UnitKind::letter) {
            in_word = false;
            pending = std::max(pending, unit.boundary);
            continue;
        }
        if (!in_word) {
            if (!words.empty() && pending == Boundary::sentence) ++sentence;
            if (!words.empty() && pending != Boundary::word) ++clause;
            words.push_back({{}, sentence, clause, unit.begin, unit.end});
            pending = Boundary::word;
            in_word = true;
        }
        MatchWord& word = words.back();
        for (const char c : unit.letters) {
            if (c == '\0') break;
            if (word.letters.empty() || word.letters.back() != c) word.letters += c;
        }
        word.end = unit.end;
    }
    return words;
}

}  // namespace

std::vector<MatchWord> split_for_matching(std::string_view text) {
    std::vector<Unit> units = decode_units(text);
    resolve_look_alikes(units);
    return render_words(units);
}

std::string normalize_for_matching(std::string_view text) {
    std::string joined;
    for (const MatchWord& word : split_for_matching(text)) {
        if (!joined.empty()) joined += ' ';
        joined += word.letters;
    }
    return joined;
}

}  // namespace haven::moderation
