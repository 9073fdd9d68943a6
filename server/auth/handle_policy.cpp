#include "auth/handle_policy.hpp"

#include <algorithm>
#include <memory>

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uspoof.h>
#include <unicode/utf16.h>

namespace haven::auth {
namespace {

// Reserved words at least this long also count inside other words ("TheModerator"); shorter
// ones only as whole words, so "mod" does not refuse "Modest Fox".
constexpr std::size_t kContainedReservedLength = 6;

icu::UnicodeString from_utf8(std::string_view text) {
    return icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), text.size()));
}

// Calls visit(c) for each code point; stops early when it returns false.
template <class Visit>
bool each_code_point(const icu::UnicodeString& text, Visit visit) {
    for (int32_t i = 0; i < text.length();) {
        const UChar32 c = text.char32At(i);
        i += U16_LENGTH(c);
        if (!visit(c)) return false;
    }
    return true;
}

bool invisible(UChar32 c) {
    return u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
           u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL) || u_charType(c) == U_FORMAT_CHAR;
}

bool forbidden(UChar32 c) {
    const auto type = static_cast<UCharCategory>(u_charType(c));
    return type == U_CONTROL_CHAR || type == U_PRIVATE_USE_CHAR || type == U_UNASSIGNED ||
           type == U_SURROGATE || c == 0xFFFD;
}

struct SpoofCheckerClose {
    void operator()(USpoofChecker* checker) const { uspoof_close(checker); }
};

// One checker per thread: ICU documents skeletons as safe to compute concurrently, but a
// checker per thread keeps that out of the question and costs nothing after the first use.
const USpoofChecker* spoof_checker() {
    thread_local const std::unique_ptr<USpoofChecker, SpoofCheckerClose> checker = [] {
        UErrorCode status = U_ZERO_ERROR;
        USpoofChecker* opened = uspoof_open(&status);
        return std::unique_ptr<USpoofChecker, SpoofCheckerClose>(U_SUCCESS(status) ? opened
                                                                                   : nullptr);
    }();
    return checker.get();
}

icu::UnicodeString casefolded(const icu::UnicodeString& text) {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
    if (U_FAILURE(status)) return text;
    icu::UnicodeString out = nfkc_cf->normalize(text, status);
    return U_SUCCESS(status) ? out : text;
}

// Skeleton, then case folding again (a skeleton may map to capitals, "0" to "O"), then
// letters and digits only.
std::string key_of(const icu::UnicodeString& visible) {
    icu::UnicodeString folded = casefolded(visible);
    icu::UnicodeString skeleton;
    UErrorCode status = U_ZERO_ERROR;
    if (const USpoofChecker* checker = spoof_checker()) {
        uspoof_getSkeletonUnicodeString(checker, 0, folded, skeleton, &status);
    }
    if (U_FAILURE(status) || spoof_checker() == nullptr) skeleton = folded;
    const icu::UnicodeString refolded = casefolded(skeleton);
    icu::UnicodeString kept;
    each_code_point(refolded, [&](UChar32 c) {
        if (u_isalnum(c)) kept.append(c);
        return true;
    });
    std::string out;
    kept.toUTF8String(out);
    return out;
}

icu::UnicodeString without_invisible(std::string_view handle) {
    icu::UnicodeString visible;
    each_code_point(from_utf8(handle), [&](UChar32 c) {
        if (!invisible(c)) visible.append(c);
        return true;
    });
    return visible;
}

bool separator(UChar32 c) {
    return u_isUWhiteSpace(c) || c == '-' || c == '_' || c == '.';
}

// The handle's words, each without invisible characters and, when asked, trailing digits.
std::vector<icu::UnicodeString> words_of(std::string_view handle, bool drop_trailing_digits) {
    const icu::UnicodeString visible = casefolded(without_invisible(handle));
    std::vector<icu::UnicodeString> words(1);
    each_code_point(visible, [&](UChar32 c) {
        if (!separator(c)) {
            words.back().append(c);
        } else if (!words.back().isEmpty()) {
            words.emplace_back();
        }
        return true;
    });
    if (words.back().isEmpty()) words.pop_back();
    if (!drop_trailing_digits) return words;
    std::vector<icu::UnicodeString> kept;
    for (icu::UnicodeString& word : words) {
        int32_t end = word.length();
        while (end > 0 && u_isdigit(word.char32At(end - 1))) --end;
        word.truncate(end);
        if (!word.isEmpty()) kept.push_back(std::move(word));
    }
    // A name of digits only keeps them: "42" is a name, not a suffix.
    return kept.empty() ? words_of(handle, false) : kept;
}

}  // namespace

std::optional<std::string> strip_invisible(std::string_view handle) {
    const bool allowed =
        each_code_point(from_utf8(handle), [](UChar32 c) { return !forbidden(c); });
    if (!allowed) return std::nullopt;
    icu::UnicodeString visible = without_invisible(handle);
    UErrorCode status = U_ZERO_ERROR;
    // Composed form, so "é" typed two ways is one string to everyone who sees it.
    const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
    if (U_SUCCESS(status)) visible = nfc->normalize(visible, status);
    if (U_FAILURE(status)) return std::nullopt;
    std::string out;
    visible.toUTF8String(out);
    return out;
}

std::string handle_key(std::string_view handle) {
    return key_of(without_invisible(handle));
}

std::string loose_handle_key(std::string_view handle) {
    std::string key;
    for (const icu::UnicodeString& word : words_of(handle, true)) key += key_of(word);
    return key;
}

HandlePolicy::HandlePolicy(const std::vector<std::string>& reserved_words) {
    for (const std::string& text : reserved_words) {
        Word word;
        for (const icu::UnicodeString& part : words_of(text, false)) {
            word.parts.push_back(key_of(part));
            word.joined += word.parts.back();
        }
        if (!word.joined.empty()) reserved_.push_back(std::move(word));
    }
}

bool HandlePolicy::reserved(std::string_view handle) const {
    std::vector<std::string> parts;
    std::string joined;
    for (const icu::UnicodeString& word : words_of(handle, true)) {
        parts.push_back(key_of(word));
        joined += parts.back();
    }
    const std::string whole = handle_key(handle);
    for (const Word& word : reserved_) {
        if (joined == word.joined || whole == word.joined) return true;
        if (std::search(parts.begin(), parts.end(), word.parts.begin(), word.parts.end()) !=
            parts.end()) {
            return true;
        }
        if (word.joined.size() >= kContainedReservedLength &&
            (joined.find(word.joined) != std::string::npos ||
             whole.find(word.joined) != std::string::npos)) {
            return true;
        }
    }
    return false;
}

}  // namespace haven::auth
