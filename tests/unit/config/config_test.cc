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
                                                          {"analytics.flush_interval_ms", "0"},
                                                          {"analytics.purge_interval_ms", "0"},
                                                          {"analytics.view_retention_days", "0"},
                                                          {"ranking.popularity_weight", "-1"},
                                                          {"ranking.region_weight", "-0.5"},
                                                          {"ranking.language_weight", "-2"},
                                                          {"ranking.saturation", "0"},
                                                          {"ranking.half_life_days", "0"},
                                                          {"limits.rate_per_second", "-1"},
                                                          {"limits.rate_burst", "0.5"},
                                                          {"limits.max_connections", "0"},
                                                          {"limits.requests_per_connection", "0"},
                                                          {"trends.epsilon", "0"},
                                                          {"trends.delta", "1"},
                                                          {"trends.days", "367"},
                                                          {"trends.top", "0"}}) {
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

} // namespace
} // namespace mixi::config
