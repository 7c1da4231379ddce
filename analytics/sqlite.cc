#include "analytics/sqlite.h"

#include <sqlite3.h>
#include <utility>

namespace mixi::analytics {

namespace {

std::unexpected<Error> sqlite_error(sqlite3* db, std::string_view what) {
    return fail(ErrorCode::io_error,
                std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

} // namespace

Statement::Statement(Statement&& o) noexcept : stmt_(std::exchange(o.stmt_, nullptr)), db_(o.db_) {}

Statement& Statement::operator=(Statement&& o) noexcept {
    if (this != &o) {
        sqlite3_finalize(stmt_);
        stmt_ = std::exchange(o.stmt_, nullptr);
        db_ = o.db_;
    }
    return *this;
}

Statement::~Statement() {
    sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
}

Statement& Statement::bind(int i, std::int64_t value) {
    sqlite3_bind_int64(stmt_, i, value);
    return *this;
}

Statement& Statement::bind(int i, double value) {
    sqlite3_bind_double(stmt_, i, value);
    return *this;
}

Expected<bool> Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    auto error = sqlite_error(db_, "database statement failed");
    sqlite3_reset(stmt_);
    return error;
}

Expected<void> Statement::each(const std::function<void()>& row) {
    for (;;) {
        auto more = step();
        if (!more)
            return std::unexpected(more.error());
        if (!*more)
            return {};
        row();
    }
}

Expected<void> Statement::run() {
    if (auto ok = each([] {}); !ok)
        return ok;
    reset();
    return {};
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::int64(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

double Statement::real(int column) const {
    return sqlite3_column_double(stmt_, column);
}

std::string Statement::text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
}

Expected<Database> Database::open(const std::filesystem::path& path) {
    sqlite3* db = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        auto error = sqlite_error(db, "cannot open " + path.string());
        sqlite3_close(db);
        return error;
    }
    Database out(db, path);
    // Another process (the CLI, the server) may hold the write lock for a moment: wait for it.
    sqlite3_busy_timeout(db, 5000);
    // secure_delete: SQLite overwrites deleted content with zeros instead of leaving it in free
    // space on its pages, so a deleted row is gone from the file (once checkpointed, see
    // checkpoint()), not only from queries.
    if (auto ok = out.exec(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;");
        !ok)
        return std::unexpected(ok.error());
    return out;
}

Database::Database(Database&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)), path_(std::move(o.path_)) {}

Database& Database::operator=(Database&& o) noexcept {
    if (this != &o) {
        sqlite3_close(db_);
        db_ = std::exchange(o.db_, nullptr);
        path_ = std::move(o.path_);
    }
    return *this;
}

Database::~Database() {
    sqlite3_close(db_);
}

Expected<void> Database::exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        std::string text = message ? message : "unknown error";
        sqlite3_free(message);
        return fail(ErrorCode::io_error, path_.string() + ": " + text);
    }
    return {};
}

Expected<Statement> Database::prepare(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) !=
        SQLITE_OK)
        return sqlite_error(db_, "cannot prepare statement");
    return Statement(stmt, db_);
}

Expected<std::int64_t> Database::scalar(const std::string& sql) {
    auto stmt = prepare(sql);
    if (!stmt)
        return std::unexpected(stmt.error());
    auto row = stmt->step();
    if (!row)
        return std::unexpected(row.error());
    return *row ? stmt->int64(0) : 0;
}

Expected<void> Database::checkpoint() {
    // TRUNCATE: copy every frame into the database file, then cut the -wal file to zero bytes,
    // so that the pages written before a delete (which still hold the deleted rows) are gone
    // from it. A reader that holds a snapshot makes it wait (busy timeout) or do less.
    return exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

Expected<Database> Database::open_in(const std::filesystem::path& data_dir) {
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    if (ec)
        return fail(ErrorCode::io_error,
                    "cannot create data directory " + data_dir.string() + ": " + ec.message());
    return open(data_dir / "analytics.sqlite");
}

Expected<Transaction> Transaction::begin(Database& db) {
    if (auto ok = db.exec("BEGIN IMMEDIATE"); !ok)
        return std::unexpected(ok.error());
    return Transaction(db);
}

Transaction::~Transaction() {
    if (db_)
        (void)db_->exec("ROLLBACK");
}

Expected<void> Transaction::commit() {
    auto ok = db_->exec("COMMIT");
    if (ok)
        db_ = nullptr;
    return ok;
}

} // namespace mixi::analytics
