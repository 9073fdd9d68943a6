// `haven-server --check-config` against configurations whose files are broken: it must
// refuse exactly what a start would refuse, and say which option is at fault.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "integration/helpers.hpp"

namespace haven::test {
namespace {

namespace fs = std::filesystem;

struct CheckResult {
    int exit_status = -1;
    std::string out;
    std::string err;
};

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string quoted(const fs::path& path) {
    return "'" + path.string() + "'";
}

// Runs `haven-server --check-config --config config` in `working_dir`.
CheckResult check_config(const fs::path& config, const fs::path& working_dir) {
    TempDir out;
    const std::string command = "cd " + quoted(working_dir) + " && " + quoted(server_binary()) +
                                " --check-config --config " + quoted(config) + " >" +
                                quoted(out.path() / "out") + " 2>" + quoted(out.path() / "err");
    const int status = std::system(command.c_str());
    CheckResult result;
    result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = read_file(out.path() / "out");
    result.err = read_file(out.path() / "err");
    return result;
}

// A configuration that is valid apart from `extra`, written to dir/haven.toml.
fs::path write_config(const fs::path& dir, const std::string& extra) {
    const fs::path path = dir / "haven.toml";
    std::ofstream(path) << "[server]\nport = " << find_free_port()
                        << "\nstatic_dir = \"\"\nshards = 1\n\n"
                        << extra;
    return path;
}

// --check-config refuses with one line naming `key` (and `names`, when given), and a start
// with the same file refuses too.
void check_refused(const fs::path& dir, const std::string& extra, const std::string& key,
                   const std::string& names = "") {
    const fs::path config = write_config(dir, extra);
    const CheckResult check = check_config(config, dir);
    CAPTURE(extra);
    CAPTURE(check.out);
    CAPTURE(check.err);
    CHECK(check.exit_status != 0);
    CHECK(check.out.find("ok") == std::string::npos);
    CHECK(std::count(check.err.begin(), check.err.end(), '\n') == 1);
    CHECK(check.err.find(key) != std::string::npos);
    if (!names.empty()) CHECK(check.err.find(names) != std::string::npos);

    const RunResult start = run_server_with_config(read_file(config), 5s);
    REQUIRE(start.exit_status.has_value());
    CHECK(*start.exit_status != 0);
    CHECK((start.out + start.err).find(key) != std::string::npos);
}

TEST_CASE("--check-config: a missing or broken crisis folder is refused and named") {
    TempDir dir;
    const fs::path missing = dir.path() / "no-such-crisis";
    check_refused(dir.path(), "[moderation]\ncrisis_dir = \"" + missing.string() + "\"\n",
                  "moderation.crisis_dir", missing.string());

    const fs::path broken = dir.path() / "crisis";
    fs::create_directories(broken);
    std::ofstream(broken / "en.toml") << "locale = \"en\"\nphrases = [\"unterminated\n";
    check_refused(dir.path(), "[moderation]\ncrisis_dir = \"" + broken.string() + "\"\n",
                  "moderation.crisis_dir", broken.string());

    const fs::path empty = dir.path() / "empty-crisis";
    fs::create_directories(empty);
    check_refused(dir.path(), "[moderation]\ncrisis_dir = \"" + empty.string() + "\"\n",
                  "moderation.crisis_dir", empty.string());
}

TEST_CASE("--check-config: a TLS certificate or key that cannot be loaded is refused") {
    TempDir dir;
    const fs::path cert = dir.path() / "missing-cert.pem";
    const fs::path key = dir.path() / "missing-key.pem";
    check_refused(dir.path(),
                  "[tls]\ncert = \"" + cert.string() + "\"\nkey = \"" + key.string() + "\"\n",
                  "tls.cert", cert.string());
    std::ofstream(dir.path() / "garbage.pem") << "not a certificate\n";
    check_refused(dir.path(),
                  "[tls]\ncert = \"" + (dir.path() / "garbage.pem").string() + "\"\nkey = \"" +
                      key.string() + "\"\n",
                  "tls.cert");
}

TEST_CASE("--check-config: an audit file that cannot be written is refused") {
    TempDir dir;
    // Under a regular file: no folder can be created there, whoever runs the test.
    std::ofstream(dir.path() / "plain-file") << "x";
    const fs::path under_file = dir.path() / "plain-file" / "audit.jsonl";
    check_refused(dir.path(), "[moderation]\naudit_file = \"" + under_file.string() + "\"\n",
                  "moderation.audit_file", under_file.string());
    // A folder where the file should be.
    fs::create_directories(dir.path() / "audit-folder");
    check_refused(dir.path(),
                  "[moderation]\naudit_file = \"" + (dir.path() / "audit-folder").string() + "\"\n",
                  "moderation.audit_file");
}

TEST_CASE("--check-config: a static_dir that is not a folder is refused") {
    TempDir dir;
    std::ofstream(dir.path() / "index.html") << "x";
    // write_config sets static_dir = ""; a later [server] key would be a TOML error, so the
    // whole file is written here.
    const fs::path config = dir.path() / "haven.toml";
    std::ofstream(config) << "[server]\nport = " << find_free_port() << "\nstatic_dir = \""
                          << (dir.path() / "index.html").string() << "\"\n";
    const CheckResult check = check_config(config, dir.path());
    CAPTURE(check.err);
    CHECK(check.exit_status != 0);
    CHECK(check.err.find("server.static_dir") != std::string::npos);
}

TEST_CASE("--check-config: a TLS 1.2 cipher list beyond ECDHE with AEAD, or unknown, is refused") {
    TempDir dir;
    // Checked with TLS off too, so a bad list never waits for the day a certificate is set.
    check_refused(dir.path(), "[tls]\nciphers = \"ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA\"\n",
                  "tls.ciphers", "AES128-SHA");
    check_refused(dir.path(), "[tls]\nciphers = \"AES256-GCM-SHA384\"\n", "tls.ciphers",
                  "AES256-GCM-SHA384");
    check_refused(dir.path(), "[tls]\nciphers = \"ECDHE-RSA-AES128-SHA\"\n", "tls.ciphers",
                  "ECDHE-RSA-AES128-SHA");
    check_refused(dir.path(), "[tls]\nciphers = \"HIGH\"\n", "tls.ciphers");
    // OpenSSL would skip an unknown name beside a known one; Haven names it.
    check_refused(dir.path(), "[tls]\nciphers = \"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES512\"\n",
                  "tls.ciphers", "ECDHE-RSA-AES512");
    check_refused(dir.path(), "[tls]\nciphers = \"\"\n", "tls.ciphers");
    // A narrower list of good suites is fine.
    const fs::path config = write_config(dir.path(), "[tls]\nciphers = \"ECDHE+AESGCM:!aNULL\"\n");
    const CheckResult check = check_config(config, dir.path());
    CAPTURE(check.err);
    CHECK(check.exit_status == 0);
}

TEST_CASE("--check-config: a metrics token that could be guessed is refused without echoing it") {
    TempDir dir;
    // write_config's [server] table is the file's last one so far: these keys land in it.
    check_refused(dir.path(), "metrics_token = \"short-token\"\n", "server.metrics_token");
    const CheckResult check =
        check_config(write_config(dir.path(), "metrics_token = \"short-token\"\n"), dir.path());
    CHECK(check.err.find("short-token") == std::string::npos);
    const CheckResult good = check_config(
        write_config(dir.path(), "metrics_token = \"0123456789abcdef0123\"\n"), dir.path());
    CAPTURE(good.err);
    CHECK(good.exit_status == 0);
}

TEST_CASE("--check-config: paths in a config are relative to its folder, from any working folder") {
    const fs::path source = HAVEN_SOURCE_DIR;
    TempDir elsewhere;
    // The crisis lists are found through crisis_dir = "crisis", next to the file.
    const CheckResult check = check_config((source / "config" / "haven.toml").string(),
                                           elsewhere.path());
    CAPTURE(check.err);
    CHECK(check.exit_status == 0);
    CHECK(check.out == "configuration ok\n");
}

TEST_CASE("--check-config: the shipped config/haven.toml is ok") {
    const fs::path source = HAVEN_SOURCE_DIR;
    const bool had_data = fs::exists(source / "data");
    const CheckResult check = check_config("config/haven.toml", source);
    CAPTURE(check.err);
    CHECK(check.exit_status == 0);
    CHECK(check.out == "configuration ok\n");
    // Only warnings (the web client may not be built yet), nothing created on disk.
    CHECK((check.err.empty() || check.err.rfind("warning: ", 0) == 0));
    CHECK(fs::exists(source / "data") == had_data);
}

}  // namespace
}  // namespace haven::test
