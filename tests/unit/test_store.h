// The analytics stores a test runs on: every analytics test is one suite instantiated for
// "sqlite" (a file in a temporary directory) and "postgres" (a database of its own, created in
// the cluster MIXI_TEST_POSTGRES names and dropped afterwards). Without MIXI_TEST_POSTGRES the
// postgres instances are skipped, and say so.
#pragma once

#include "analytics/database.h"
#include "temp_dir.h"

#include <atomic>
#include <cstdlib>
#include <gtest/gtest.h>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace mixi::testing {

/// The URI `admin` (postgresql://user@host:port/db?params) with another database name.
inline std::string with_database(const std::string& admin, const std::string& name) {
    const std::size_t authority = admin.find("://") + 3;
    const std::size_t path = admin.find('/', authority);
    const std::size_t query = admin.find('?', authority);
    std::string out = admin.substr(0, std::min(path, query)) + "/" + name;
    if (query != std::string::npos)
        out += admin.substr(query);
    return out;
}

/// A fresh store of one kind for one test.
class TestStore {
  public:
    explicit TestStore(const std::string& kind) {
        if (kind == "sqlite") {
            location_ = analytics::StoreLocation(dir_.path());
            return;
        }
        const char* admin = std::getenv("MIXI_TEST_POSTGRES");
        if (!admin || !*admin)
            return;
        admin_ = admin;
        static std::atomic<int> counter{0};
        name_ = "mixi_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
        auto c = analytics::open_postgres(admin_);
        if (!c)
            throw std::runtime_error("MIXI_TEST_POSTGRES: " + c.error().message);
        (void)(*c)->exec("DROP DATABASE IF EXISTS " + name_);
        if (auto ok = (*c)->exec("CREATE DATABASE " + name_); !ok)
            throw std::runtime_error("cannot create a test database: " + ok.error().message);
        location_ = analytics::StoreLocation::from_setting({}, with_database(admin_, name_));
    }
    ~TestStore() {
        if (name_.empty())
            return;
        if (auto c = analytics::open_postgres(admin_))
            (void)(*c)->exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    }
    TestStore(const TestStore&) = delete;
    TestStore& operator=(const TestStore&) = delete;

    /// False for postgres without MIXI_TEST_POSTGRES.
    bool available() const { return !location_.target().empty(); }
    const analytics::StoreLocation& location() const { return location_; }
    /// A temporary directory (the SQLite file's; any test's files).
    const std::filesystem::path& dir() const { return dir_.path(); }

  private:
    TempDir dir_;
    analytics::StoreLocation location_;
    std::string admin_, name_;
};

/// A suite instantiated for both stores: `store()` is this test's.
class StoreTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        store_ = std::make_unique<TestStore>(GetParam());
        if (!store_->available())
            GTEST_SKIP() << "MIXI_TEST_POSTGRES is not set: the PostgreSQL store is not tested";
    }
    TestStore& store() { return *store_; }
    const analytics::StoreLocation& where() { return store_->location(); }
    bool postgres() const { return GetParam() == "postgres"; }

  private:
    std::unique_ptr<TestStore> store_;
};

inline std::string store_name(const ::testing::TestParamInfo<std::string>& info) {
    return info.param;
}

} // namespace mixi::testing

/// Runs the StoreTest suite `suite` on SQLite and PostgreSQL (…/sqlite, …/postgres).
#define MIXI_ON_BOTH_STORES(suite)                                                                 \
    INSTANTIATE_TEST_SUITE_P(Stores, suite, ::testing::Values("sqlite", "postgres"),               \
                             ::mixi::testing::store_name)
