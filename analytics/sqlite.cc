// The SQLite store: one file in WAL mode, shared by the server and the CLI of one machine.
#include "analytics/database.h"

#include <sqlite3.h>
#include <utility>

namespace mixi::analytics {

namespace {

std::unexpected<Error> sqlite_error(sqlite3* db, std::string_view what) {
    return fail(ErrorCode::io_error,
                std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

class SqliteStatement final : public StatementImpl {
  public:
    SqliteStatement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
    ~SqliteStatement() override { sqlite3_finalize(stmt_); }

    void bind(int i, std::string_view text) override {
        sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    }
    void bind(int i, std::int64_t value) override { sqlite3_bind_int64(stmt_, i, value); }
    void bind(int i, double value) override { sqlite3_bind_double(stmt_, i, value); }

    Expected<bool> step() override {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW)
            return true;
        if (rc == SQLITE_DONE)
            return false;
        auto error = sqlite_error(db_, "database statement failed");
        sqlite3_reset(stmt_);
        return error;
    }
    void reset() override {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    std::int64_t int64(int column) const override { return sqlite3_column_int64(stmt_, column); }
    double real(int column) const override { return sqlite3_column_double(stmt_, column); }
    std::string text(int column) const override {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
                 : std::string();
    }

  private:
    sqlite3_stmt* stmt_;
    sqlite3* db_;
};

class SqliteConnection final : public Connection {
  public:
    SqliteConnection(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
    ~SqliteConnection() override { sqlite3_close(db_); }

    bool postgres() const override { return false; }

    Expected<void> exec(const std::string& sql) override {
        char* message = nullptr;
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
            std::string text = message ? message : "unknown error";
            sqlite3_free(message);
            return fail(ErrorCode::io_error, path_.string() + ": " + text);
        }
        return {};
    }

    Expected<Statement> prepare(const std::string& sql) override {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) !=
            SQLITE_OK)
            return sqlite_error(db_, "cannot prepare statement");
        return Statement(std::make_unique<SqliteStatement>(stmt, db_));
    }

    Expected<std::int64_t> changes() override { return sqlite3_changes64(db_); }

    Expected<void> begin() override { return exec("BEGIN IMMEDIATE"); }

    Expected<bool> try_lock(std::int64_t) override { return true; }
    void unlock(std::int64_t) override {}

    Expected<void> erase_deleted(const std::string&) override {
        // TRUNCATE: copy every frame into the database file, then cut the -wal file to zero
        // bytes, so that the pages written before a delete (which still hold the deleted rows)
        // are gone from it. A reader that holds a snapshot makes it wait (busy timeout) or do
        // less.
        return exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }

    Expected<std::int64_t> data_version() override {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db_, "PRAGMA data_version", -1, &stmt, nullptr) != SQLITE_OK)
            return sqlite_error(db_, "cannot prepare statement");
        std::int64_t version = 0;
        const int rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW)
            version = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
        if (rc != SQLITE_ROW)
            return sqlite_error(db_, "cannot read the data version");
        return version;
    }

    std::string description() const override { return path_.string(); }

  private:
    sqlite3* db_;
    std::filesystem::path path_;
};

} // namespace

Expected<std::unique_ptr<Connection>> open_sqlite(const std::filesystem::path& path) {
    if (path.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        if (ec)
            return fail(ErrorCode::io_error, "cannot create data directory " +
                                                 path.parent_path().string() + ": " + ec.message());
    }
    sqlite3* db = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        auto error = sqlite_error(db, "cannot open " + path.string());
        sqlite3_close(db);
        return error;
    }
    auto out = std::make_unique<SqliteConnection>(db, path);
    // Another process (the CLI, the server) may hold the write lock for a moment: wait for it.
    sqlite3_busy_timeout(db, 5000);
    // secure_delete: SQLite overwrites deleted content with zeros instead of leaving it in free
    // space on its pages, so a deleted row is gone from the file (once checkpointed, see
    // erase_deleted()), not only from queries.
    if (auto ok = out->exec(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;");
        !ok)
        return std::unexpected(ok.error());
    return std::unique_ptr<Connection>(std::move(out));
}

} // namespace mixi::analytics
