// The analytics store behind one small interface: a connection, statements with parameters,
// rows, transactions. Two stores implement it: SQLite (analytics/sqlite.cc, one file that the
// server and the CLI of one machine share) and PostgreSQL (analytics/postgres.cc, one database
// that several servers share). SQL is written once: `?` and `?N` placeholders (PostgreSQL gets
// them as $N), ON CONFLICT upserts with the target table named in their SET, RETURNING; what
// differs (the tables' DDL, locks) is behind this interface or in analytics/schema.cc.
// Nothing here knows about views or search terms.
#pragma once

#include "common/error.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace mixi::analytics {

/// Where the analytics store is: a SQLite file or a PostgreSQL database.
class StoreLocation {
  public:
    StoreLocation() = default;
    /// The SQLite file of a data directory, <data_dir>/analytics.sqlite (implicit: a data
    /// directory names its store).
    StoreLocation(const std::filesystem::path& data_dir);
    /// The setting analytics.database: empty for <data_dir>/analytics.sqlite, a postgresql://
    /// URI, or a SQLite file path.
    static StoreLocation from_setting(const std::filesystem::path& data_dir,
                                      const std::string& database);

    bool postgres() const { return postgres_; }
    /// The file path or the URI.
    const std::string& target() const { return target_; }
    /// As it may be printed: a URI without its password.
    std::string printable() const;
    /// True when nothing can be stored there yet: a SQLite file that does not exist.
    bool missing() const;

  private:
    std::string target_;
    bool postgres_ = false;
};

/// One store's side of a prepared statement.
class StatementImpl {
  public:
    virtual ~StatementImpl() = default;
    virtual void bind(int i, std::string_view text) = 0;
    virtual void bind(int i, std::int64_t value) = 0;
    virtual void bind(int i, double value) = 0;
    virtual Expected<bool> step() = 0;
    virtual void reset() = 0;
    virtual std::int64_t int64(int column) const = 0;
    virtual double real(int column) const = 0;
    virtual std::string text(int column) const = 0;
};

class Statement {
  public:
    Statement() = default;
    explicit Statement(std::unique_ptr<StatementImpl> impl) : impl_(std::move(impl)) {}

    /// Binds parameter `i` (1-based). A parameter left unbound is NULL.
    Statement& bind(int i, std::string_view text) {
        impl_->bind(i, text);
        return *this;
    }
    Statement& bind(int i, std::int64_t value) {
        impl_->bind(i, value);
        return *this;
    }
    Statement& bind(int i, double value) {
        impl_->bind(i, value);
        return *this;
    }

    /// Runs one step: true while there is a row, false when done.
    Expected<bool> step() { return impl_->step(); }
    /// Runs to completion, ignoring rows, and resets for the next use.
    Expected<void> run();
    /// Steps through every row, calling `row` at each (it reads the columns).
    Expected<void> each(const std::function<void()>& row);
    /// Forgets the bindings and any rows left, for the next use.
    void reset() { impl_->reset(); }

    std::int64_t int64(int column) const { return impl_->int64(column); }
    double real(int column) const { return impl_->real(column); }
    std::string text(int column) const { return impl_->text(column); }

  private:
    std::unique_ptr<StatementImpl> impl_;
};

/// One store's connection.
class Connection {
  public:
    virtual ~Connection() = default;
    virtual bool postgres() const = 0;
    /// One or more statements without parameters.
    virtual Expected<void> exec(const std::string& sql) = 0;
    virtual Expected<Statement> prepare(const std::string& sql) = 0;
    /// Rows changed by this connection's last statement.
    virtual Expected<std::int64_t> changes() = 0;
    /// Starts a transaction that writes: one writer at a time (SQLite BEGIN IMMEDIATE;
    /// PostgreSQL BEGIN and a transaction-level advisory lock every writer takes).
    virtual Expected<void> begin() = 0;
    /// Takes the session-level lock `key` if no other connection holds it (PostgreSQL
    /// pg_try_advisory_lock; SQLite: always, one file has one machine's processes, which its
    /// own locks order).
    virtual Expected<bool> try_lock(std::int64_t key) = 0;
    virtual void unlock(std::int64_t key) = 0;
    /// SQLite: writes the WAL into the file and truncates it, so that with secure_delete no
    /// deleted row stays in either. PostgreSQL: VACUUM of `table`, so that deleted rows' space
    /// is reclaimed (the rows are gone from every query at once).
    virtual Expected<void> erase_deleted(const std::string& table) = 0;
    /// SQLite: PRAGMA data_version (changes whenever another connection commits). PostgreSQL:
    /// nullopt (see ViewStore::changed_elsewhere).
    virtual Expected<std::int64_t> data_version() = 0;
    virtual std::string description() const = 0;
};

class Database {
  public:
    /// The store at `where`, its tables created or migrated (analytics/schema.h). A SQLite
    /// file's directory is created when missing.
    static Expected<Database> connect(const StoreLocation& where);
    /// The analytics store of a data directory (analytics.sqlite).
    static Expected<Database> open_in(const std::filesystem::path& data_dir) {
        return connect(StoreLocation(data_dir));
    }
    /// A SQLite file (created when missing) in WAL mode with a busy timeout, so that the server
    /// and a CLI process can share it, and with secure_delete on: deleted content is
    /// overwritten with zeros.
    static Expected<Database> open(const std::filesystem::path& file);

    Database() = default;
    explicit Database(std::unique_ptr<Connection> c) : c_(std::move(c)) {}

    bool postgres() const { return c_->postgres(); }
    Expected<void> exec(const std::string& sql) { return c_->exec(sql); }
    Expected<Statement> prepare(const std::string& sql) { return c_->prepare(sql); }
    /// The first column of the first row of `sql` (0 when there is no row).
    Expected<std::int64_t> scalar(const std::string& sql);
    Expected<std::int64_t> changes() { return c_->changes(); }
    Expected<std::int64_t> data_version() { return c_->data_version(); }
    /// Makes sure that rows deleted from `table` leave no copy (see Connection::erase_deleted).
    Expected<void> erase_deleted(const std::string& table) { return c_->erase_deleted(table); }
    /// SQLite's truncating WAL checkpoint (erase_deleted); nothing for PostgreSQL.
    Expected<void> checkpoint() {
        return c_->postgres() ? Expected<void>{} : c_->erase_deleted("");
    }
    Expected<bool> try_lock(std::int64_t key) { return c_->try_lock(key); }
    void unlock(std::int64_t key) { c_->unlock(key); }
    Connection& connection() { return *c_; }
    std::string description() const { return c_->description(); }

  private:
    std::unique_ptr<Connection> c_;
};

/// A writing transaction (Connection::begin), rolled back unless committed.
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

/// Opens a SQLite file (analytics/sqlite.cc) and a PostgreSQL connection (analytics/postgres.cc),
/// without the schema.
Expected<std::unique_ptr<Connection>> open_sqlite(const std::filesystem::path& file);
Expected<std::unique_ptr<Connection>> open_postgres(const std::string& uri);

} // namespace mixi::analytics
