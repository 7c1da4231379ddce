// The configuration model: real TOML files in a temporary folder, the environment as a map, and
// the command line's overrides, in their order of precedence; one validate().
#include "../temp_dir.h"
#include "config/config.h"

#include <fstream>
#include <gtest/gtest.h>

namespace mixi::config {
namespace {

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
  protected:
    fs::path write(const std::string& name, const std::string& text) {
        const fs::path path = tmp.path() / name;
        std::ofstream(path) << text;
        return path;
    }

    /// The error load() returns for one override; fails the test when it loads.
    std::string error_for(const std::string& key, const std::string& value) {
        Sources sources;
        sources.overrides = {{key, value}};
        auto config = load(sources);
        EXPECT_FALSE(config) << key << "=" << value << " was accepted";
        return config ? std::string() : config.error().message;
    }

    testing::TempDir tmp;
};

TEST_F(ConfigTest, SmallFloatsInTheFileKeepTheirValue) {
    // A small weight is still a weight, not 0.
    auto weights = load({write("weights.toml", "[ranking]\n"
                                               "region_weight = 1e-7\n"
                                               "popularity_weight = 0.0000004\n"),
                         {},
                         {}});
    ASSERT_TRUE(weights) << weights.error().message;
    EXPECT_DOUBLE_EQ(weights->search.ranking.region_weight, 1e-7);
    EXPECT_DOUBLE_EQ(weights->search.ranking.popularity_weight, 4e-7);
    // And a small value that must be > 0 is accepted.
    auto delta = load({write("delta.toml", "[trends]\ndelta = 1e-7\n"), {}, {}});
    ASSERT_TRUE(delta) << delta.error().message;
    EXPECT_DOUBLE_EQ(delta->trends.delta, 1e-7);
}

TEST_F(ConfigTest, PrintedConfigurationReadsBackTheSameValues) {
    Sources sources;
    sources.overrides = {{"ranking.saturation", "0.123456789"}, {"search.b", "1e-9"}};
    auto config = load(sources);
    ASSERT_TRUE(config) << config.error().message;
    const std::string printed = to_toml(*config);
    auto again = load({write("printed.toml", printed), {}, {}});
    ASSERT_TRUE(again) << again.error().message << "\n" << printed;
    EXPECT_EQ(again->search.ranking.saturation, 0.123456789);
    EXPECT_EQ(again->search.b, 1e-9);
    EXPECT_EQ(to_toml(*again), printed);
}

TEST_F(ConfigTest, FileThenEnvironmentThenOverridesInTheirOrder) {
    Sources sources;
    sources.file = write("mixi.toml", "[server]\nport = 1111\ndata_dir = \"from-file\"\n\n"
                                      "[analytics]\nreport_k = 20\nretention_days = 9\n");
    auto file = load(sources);
    ASSERT_TRUE(file) << file.error().message;
    EXPECT_EQ(file->port, 1111);
    EXPECT_EQ(file->data_dir, "from-file");
    EXPECT_EQ(file->report_k, 20u);
    EXPECT_EQ(file->index, "index"); // a default

    // MIXI_SECTION_KEY; names that are not settings belong to someone else and are ignored.
    sources.env = {{"MIXI_SERVER_PORT", "2222"},
                   {"MIXI_ANALYTICS_REPORT_K", "50"},
                   {"MIXI_SOMETHING_ELSE", "x"},
                   {"PATH", "/bin"}};
    auto env = load(sources);
    ASSERT_TRUE(env) << env.error().message;
    EXPECT_EQ(env->port, 2222);
    EXPECT_EQ(env->report_k, 50u);
    EXPECT_EQ(env->retention_days, 9);

    // A subcommand's flag, then --set: the later one wins.
    sources.overrides = {
        {"server.port", "3333"}, {"server.data_dir", "flag"}, {"server.data_dir", "set"}};
    auto overridden = load(sources);
    ASSERT_TRUE(overridden) << overridden.error().message;
    EXPECT_EQ(overridden->port, 3333);
    EXPECT_EQ(overridden->data_dir, "set");
    EXPECT_EQ(overridden->report_k, 50u);
}

TEST_F(ConfigTest, ValidateRejectsBadValuesNamingTheKey) {
    for (const auto& [key, value] :
         std::vector<std::pair<std::string, std::string>>{{"analytics.retention_days", "0"},
                                                          {"analytics.report_k", "0"},
                                                          {"analytics.report_k_distinct", "0"},
                                                          {"analytics.report_k", "1"},
                                                          {"analytics.report_k_distinct", "1"},
                                                          {"analytics.flush_interval_ms", "0"},
                                                          {"analytics.purge_interval_ms", "0"},
                                                          {"analytics.view_retention_days", "0"},
                                                          {"ranking.popularity_weight", "-1"},
                                                          {"ranking.region_weight", "-0.5"},
                                                          {"ranking.language_weight", "-2"},
                                                          {"ranking.saturation", "0"},
                                                          {"search.synonym_weight", "-0.1"},
                                                          {"ranking.half_life_days", "0"},
                                                          {"limits.rate_per_second", "-1"},
                                                          {"limits.rate_burst", "0.5"},
                                                          {"limits.max_connections", "0"},
                                                          {"limits.requests_per_connection", "0"},
                                                          {"trends.epsilon", "0"},
                                                          {"trends.delta", "1"},
                                                          {"trends.days", "367"},
                                                          {"trends.top", "0"},
                                                          {"search.proximity_weight", "-0.1"},
                                                          {"search.proximity_window", "5000"},
                                                          {"search.prf_docs", "101"},
                                                          {"search.prf_terms", "0"},
                                                          {"search.prf_weight", "-1"},
                                                          {"search.typo_weight", "-0.1"},
                                                          {"search.typo_weight", "1.5"},
                                                          {"search.typo_ratio", "0"},
                                                          {"search.prefix_postings", "0"}}) {
        const std::string message = error_for(key, value);
        EXPECT_NE(message.find(key), std::string::npos) << key << ": " << message;
        EXPECT_NE(message.find("(is "), std::string::npos) << key << ": " << message;
    }
    // A relation between two settings names the one that breaks it.
    Sources sources;
    sources.overrides = {{"analytics.retention_days", "40"},
                         {"analytics.aggregate_retention_days", "30"}};
    auto config = load(sources);
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().message.find("analytics.aggregate_retention_days must be >= "
                                          "analytics.retention_days = 40 (is 30)"),
              std::string::npos)
        << config.error().message;
    // validate() on its own, for a Config changed after loading.
    Config changed;
    ASSERT_TRUE(validate(changed));
    changed.trends.days = 0;
    auto invalid = validate(changed);
    ASSERT_FALSE(invalid);
    EXPECT_NE(invalid.error().message.find("trends.days"), std::string::npos);
    changed = Config{};
    changed.auth.admin_keys = {"short"};
    invalid = validate(changed);
    ASSERT_FALSE(invalid);
    EXPECT_NE(invalid.error().message.find("auth.admin_keys"), std::string::npos);
}

TEST_F(ConfigTest, UnknownKeysAndWrongTypesAreErrorsNamingTheKey) {
    auto unknown = load({write("unknown.toml", "[server]\ncolour = \"red\"\n"), {}, {}});
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message.find("server.colour"), std::string::npos);
    auto type = load({write("type.toml", "[server]\nport = \"eighty\"\n"), {}, {}});
    ASSERT_FALSE(type);
    EXPECT_NE(type.error().message.find("server.port"), std::string::npos);
    EXPECT_NE(error_for("limits.nonsense", "1").find("limits.nonsense"), std::string::npos);
    EXPECT_NE(error_for("geoip.level", "city").find("geoip.level"), std::string::npos);
}

TEST_F(ConfigTest, TheAnalyticsDatabaseIsAPathOrAPostgresUriPrintedWithoutItsPassword) {
    Sources sources;
    auto defaults = load(sources);
    ASSERT_TRUE(defaults);
    EXPECT_EQ(defaults->analytics_database, ""); // analytics.sqlite in server.data_dir
    sources.overrides = {
        {"analytics.database", "postgresql://mixi:s3cr3t-pw@db.example:5432/mixi?sslmode=require"}};
    auto uri = load(sources);
    ASSERT_TRUE(uri) << uri.error().message;
    EXPECT_EQ(uri->analytics_database,
              "postgresql://mixi:s3cr3t-pw@db.example:5432/mixi?sslmode=require");
    const std::string printed = to_toml(*uri);
    EXPECT_EQ(printed.find("s3cr3t-pw"), std::string::npos);
    EXPECT_NE(printed.find("postgresql://mixi:(hidden)@db.example:5432/mixi?sslmode=require"),
              std::string::npos);
    sources.overrides = {{"analytics.database", "postgres://db.example/mixi?password=s3cr3t-pw"}};
    auto param = load(sources);
    ASSERT_TRUE(param);
    EXPECT_EQ(to_toml(*param).find("s3cr3t-pw"), std::string::npos);
    sources.overrides = {{"analytics.database", "/var/lib/mixi-search/analytics.sqlite"}};
    EXPECT_TRUE(load(sources));
    const std::string message = error_for("analytics.database", "mysql://u:s3cr3t-pw@h/db");
    EXPECT_NE(message.find("analytics.database"), std::string::npos);
    EXPECT_EQ(message.find("s3cr3t-pw"), std::string::npos);
    // A libpq key=value string is refused without being printed (it has no URI shape for its
    // password to be found in).
    const std::string keywords =
        error_for("analytics.database", "host=db.example dbname=mixi password=s3cr3t-pw");
    EXPECT_NE(keywords.find("postgresql:// URI"), std::string::npos) << keywords;
    EXPECT_EQ(keywords.find("s3cr3t-pw"), std::string::npos) << keywords;
}

TEST_F(ConfigTest, AdminKeyFileAddsKeys) {
    const fs::path keys = write("keys", "# admin keys\nkey-from-the-file-0001\r\n\n");
    Sources sources;
    sources.overrides = {{"auth.admin_keys", "key-from-the-flag-0001"},
                         {"auth.admin_key_file", keys.string()}};
    auto config = load(sources);
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->auth.admin_keys,
              (std::vector<std::string>{"key-from-the-flag-0001", "key-from-the-file-0001"}));
    EXPECT_EQ(to_toml(*config).find("key-from"), std::string::npos); // secrets stay hidden
    sources.overrides = {{"auth.admin_key_file", (tmp.path() / "missing").string()}};
    auto missing = load(sources);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("auth.admin_key_file"), std::string::npos);
}

TEST_F(ConfigTest, AnAccountSecretShorterThan32BytesIsRefusedWithoutBeingShown) {
    const std::string short_secret = "only-thirty-one-bytes-long-0123";
    ASSERT_EQ(short_secret.size(), 31u);
    const std::string message = error_for("auth.account_secret", short_secret);
    EXPECT_NE(message.find("auth.account_secret must be at least 32 bytes"), std::string::npos)
        << message;
    EXPECT_EQ(message.find(short_secret), std::string::npos) << message;
    Sources sources;
    sources.overrides = {{"auth.account_secret", short_secret + "4"}};
    EXPECT_TRUE(load(sources));
    sources.overrides = {{"auth.account_secret", ""}}; // none: signed-in search is off
    EXPECT_TRUE(load(sources));
    // The same from the file that holds it.
    const fs::path file = write("secret", short_secret + "\n");
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
    sources.overrides = {{"auth.account_secret_file", file.string()}};
    auto from_file = load(sources);
    ASSERT_FALSE(from_file);
    EXPECT_NE(from_file.error().message.find("auth.account_secret"), std::string::npos);
    EXPECT_EQ(from_file.error().message.find(short_secret), std::string::npos);
}

TEST_F(ConfigTest, AccountSecretFileGivesTheSecretAndIsNeverPrinted) {
    const std::string secret = "0123456789abcdef0123456789abcdef-from-the-file";
    const fs::path file = write("secret", secret + "\r\n");
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
    Sources sources;
    sources.overrides = {{"auth.account_secret_file", file.string()}};
    auto config = load(sources);
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->auth.account_secret, secret);
    EXPECT_TRUE(config->warnings.empty());
    EXPECT_EQ(to_toml(*config).find("from-the-file"), std::string::npos);
    // Both at once is a mistake, and so is an empty file.
    sources.overrides.emplace_back("auth.account_secret", secret);
    EXPECT_FALSE(load(sources));
    sources.overrides = {{"auth.account_secret_file", write("empty", "\n").string()}};
    EXPECT_FALSE(load(sources));
}

TEST_F(ConfigTest, AnAdminKeyWithACommaIsAnErrorNotTwoKeys) {
    const std::string first = "first-admin-key-0001", second = "second-admin-key-0002";
    // In the file, as an element of the array and as text.
    for (const std::string& toml : {"[auth]\nadmin_keys = [\"" + first + "," + second + "\"]\n",
                                    "[auth]\nadmin_keys = \"" + first + "," + second + "\"\n"}) {
        auto config = load({write("keys.toml", toml), {}, {}});
        ASSERT_FALSE(config) << toml;
        EXPECT_NE(config.error().message.find("auth.admin_keys"), std::string::npos);
        EXPECT_NE(config.error().message.find("comma"), std::string::npos);
        EXPECT_EQ(config.error().message.find(first), std::string::npos); // not shown
    }
    // A line of the key file.
    const fs::path keys = write("keys", "# admin keys\n" + first + "," + second + "\n");
    fs::permissions(keys, fs::perms::owner_read | fs::perms::owner_write);
    Sources sources;
    sources.overrides = {{"auth.admin_key_file", keys.string()}};
    auto from_file = load(sources);
    ASSERT_FALSE(from_file);
    EXPECT_NE(from_file.error().message.find(keys.string() + ":2"), std::string::npos)
        << from_file.error().message;
    EXPECT_NE(from_file.error().message.find("comma"), std::string::npos);
    EXPECT_EQ(from_file.error().message.find(first), std::string::npos);
    // An array of two keys is two keys; in the environment and on the command line, where a
    // list is text, the comma separates them.
    auto two =
        load({write("two.toml", "[auth]\nadmin_keys = [\"" + first + "\", \"" + second + "\"]\n"),
              {},
              {}});
    ASSERT_TRUE(two) << two.error().message;
    EXPECT_EQ(two->auth.admin_keys, (std::vector<std::string>{first, second}));
    sources = {};
    sources.env = {{"MIXI_AUTH_ADMIN_KEYS", first + "," + second}};
    auto env = load(sources);
    ASSERT_TRUE(env) << env.error().message;
    EXPECT_EQ(env->auth.admin_keys, (std::vector<std::string>{first, second}));
}

TEST_F(ConfigTest, SecretFilesOthersCanReadAreWarnedAbout) {
    const std::string secret = "0123456789abcdef0123456789abcdef";
    const fs::path key_file = write("keys", "admin-key-0123456789\n");
    const fs::path secret_file = write("secret", secret + "\n");
    Sources sources;
    sources.overrides = {{"auth.admin_key_file", key_file.string()},
                         {"auth.account_secret_file", secret_file.string()}};
    using fs::perms;
    fs::permissions(key_file, perms::owner_read | perms::owner_write | perms::group_read);
    fs::permissions(secret_file, perms::owner_read | perms::group_read | perms::others_read);
    auto loose = load(sources);
    ASSERT_TRUE(loose) << loose.error().message;
    ASSERT_EQ(loose->warnings.size(), 2u);
    EXPECT_NE(loose->warnings[0].find("auth.admin_key_file"), std::string::npos);
    EXPECT_NE(loose->warnings[0].find("0640"), std::string::npos) << loose->warnings[0];
    EXPECT_NE(loose->warnings[1].find("auth.account_secret_file"), std::string::npos);
    EXPECT_NE(loose->warnings[1].find("0444"), std::string::npos) << loose->warnings[1];
    for (const auto& w : loose->warnings) {
        EXPECT_EQ(w.find("admin-key-0123456789"), std::string::npos) << w;
        EXPECT_EQ(w.find(secret), std::string::npos) << w;
    }
    fs::permissions(key_file, perms::owner_read | perms::owner_write);
    fs::permissions(secret_file, perms::owner_read);
    auto tight = load(sources);
    ASSERT_TRUE(tight) << tight.error().message;
    EXPECT_TRUE(tight->warnings.empty());

    // The configuration file, when it holds a secret, and only then.
    const fs::path plain = write("plain.toml", "[server]\nport = 8081\n");
    const fs::path with_secret =
        write("secret.toml", "[auth]\naccount_secret = \"" + secret + "\"\n");
    const fs::path with_key =
        write("key.toml", "[auth]\nadmin_keys = [\"admin-key-0123456789\"]\n");
    for (const fs::path& file : {plain, with_secret, with_key})
        fs::permissions(file, perms::owner_read | perms::owner_write | perms::others_read);
    auto no_secret = load({plain, {}, {}});
    ASSERT_TRUE(no_secret) << no_secret.error().message;
    EXPECT_TRUE(no_secret->warnings.empty());
    for (const fs::path& file : {with_secret, with_key}) {
        auto holding = load({file, {}, {}});
        ASSERT_TRUE(holding) << holding.error().message;
        ASSERT_EQ(holding->warnings.size(), 1u) << file;
        EXPECT_NE(holding->warnings[0].find(file.string()), std::string::npos);
        EXPECT_NE(holding->warnings[0].find("(mode 0604)"), std::string::npos)
            << holding->warnings[0];
        EXPECT_EQ(holding->warnings[0].find(secret), std::string::npos);
    }
    fs::permissions(with_secret, perms::owner_read | perms::owner_write);
    auto own = load({with_secret, {}, {}});
    ASSERT_TRUE(own) << own.error().message;
    EXPECT_TRUE(own->warnings.empty());
}

} // namespace
} // namespace mixi::config
