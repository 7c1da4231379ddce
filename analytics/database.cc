#include "analytics/database.h"

#include "analytics/schema.h"
#include "common/database_url.h"

namespace mixi::analytics {

StoreLocation::StoreLocation(const std::filesystem::path& data_dir)
    : target_((data_dir / "analytics.sqlite").string()) {}

StoreLocation StoreLocation::from_setting(const std::filesystem::path& data_dir,
                                          const std::string& database) {
    if (database.empty())
        return StoreLocation(data_dir);
    StoreLocation out;
    out.target_ = database;
    out.postgres_ = is_postgres_url(database);
    return out;
}

std::string StoreLocation::printable() const {
    return printable_database(target_);
}

bool StoreLocation::missing() const {
    return !postgres_ && !std::filesystem::exists(target_);
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
    if (auto ok = each([] {}); !ok) {
        reset();
        return ok;
    }
    reset();
    return {};
}

Expected<Database> Database::connect(const StoreLocation& where) {
    auto connection =
        where.postgres() ? open_postgres(where.target()) : open_sqlite(where.target());
    if (!connection)
        return std::unexpected(connection.error());
    Database db(std::move(*connection));
    if (auto ok = migrate(db); !ok)
        return std::unexpected(ok.error());
    return db;
}

Expected<Database> Database::open(const std::filesystem::path& file) {
    return connect(StoreLocation::from_setting({}, file.string()));
}

Expected<std::int64_t> Database::scalar(const std::string& sql) {
    auto stmt = prepare(sql);
    if (!stmt)
        return std::unexpected(stmt.error());
    auto row = stmt->step();
    if (!row)
        return std::unexpected(row.error());
    const std::int64_t value = *row ? stmt->int64(0) : 0;
    stmt->reset();
    return value;
}

Expected<Transaction> Transaction::begin(Database& db) {
    if (auto ok = db.connection().begin(); !ok)
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
