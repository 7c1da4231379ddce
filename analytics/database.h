// A thin RAII layer over the SQLite C API: one connection, prepared statements, errors as
// Expected. Nothing here knows about views or search terms.
#pragma once

#include "common/error.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace mixi::analytics {

class Statement {
  public:
    Statement() = default;
    Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
    Statement(Statement&& o) noexcept;
    Statement& operator=(Statement&& o) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    /// Binds parameter `i` (1-based).
    Statement& bind(int i, std::string_view text);
    Statement& bind(int i, std::int64_t value);
    Statement& bind(int i, double value);

    /// Runs one step: true while there is a row, false when done.
    Expected<bool> step();
    /// Runs to completion, ignoring rows, and resets for the next use.
    Expected<void> run();
    /// Steps through every row, calling `row` at each (it reads the columns).
    Expected<void> each(const std::function<void()>& row);
    void reset();

    std::int64_t int64(int column) const;
    double real(int column) const;
    std::string text(int column) const;

  private:
    sqlite3_stmt* stmt_ = nullptr;
    sqlite3* db_ = nullptr;
};

class Database {
  public:
    /// The analytics database of a data directory (analytics.sqlite), creating the directory.
    static Expected<Database> open_in(const std::filesystem::path& data_dir);
    /// Opens (creating when missing) a database file in WAL mode with a busy timeout, so that
    /// the server and a CLI process can share it, and with secure_delete on: deleted content is
    /// overwritten with zeros.
    static Expected<Database> open(const std::filesystem::path& path);

    Database(Database&& o) noexcept;
    Database& operator=(Database&& o) noexcept;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database();

    Expected<void> exec(const std::string& sql);
    Expected<Statement> prepare(const std::string& sql);

    /// The first column of the first row of `sql` (0 when there is no row).
    Expected<std::int64_t> scalar(const std::string& sql);
    /// Changes whenever another connection commits to the database (PRAGMA data_version).
    Expected<std::int64_t> data_version() { return scalar("PRAGMA data_version"); }
    /// Writes the WAL into the database file and truncates the WAL to zero bytes: after a
    /// delete, the file and its -wal hold nothing of the deleted rows.
    Expected<void> checkpoint();
    /// Rows changed by this connection's last statement.
    Expected<std::int64_t> changes() { return scalar("SELECT changes()"); }

    const std::filesystem::path& path() const { return path_; }

  private:
    Database(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
    sqlite3* db_ = nullptr;
    std::filesystem::path path_;
};

/// BEGIN IMMEDIATE ... COMMIT, rolled back unless committed.
class Transaction {
  public:
    static Expected<Transaction> begin(Database& db);
    Transaction(Transaction&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
    ~Transaction();
    Expected<void> commit();

  private:
    explicit Transaction(Database& db) : db_(&db) {}
    Database* db_;
};

} // namespace mixi::analytics
