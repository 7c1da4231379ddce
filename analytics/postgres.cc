// The PostgreSQL store: one database that several servers share, through libpq. Statements are
// prepared once per connection and SQL text ("?" and "?N" placeholders become "$N"); every
// parameter is sent as text with its type (bigint, double precision or text), so that the SQL
// the SQLite store runs runs here too. A connection that broke is reset before its next use.
#include "analytics/database.h"
#include "common/database_url.h"

#include <charconv>
#include <cstdlib>
#include <libpq-fe.h>
#include <map>
#include <optional>
#include <vector>

namespace mixi::analytics {

namespace {

constexpr Oid int8_oid = 20, text_oid = 25, float8_oid = 701;

/// Every writer's transaction-level advisory lock (Connection::begin): "mixi" in ASCII.
constexpr std::int64_t writer_lock = 0x6d697869;

/// "?" and "?N" outside quotes as "$N"; `params` is set to the highest N.
std::string to_dollar_params(std::string_view sql, int& params) {
    std::string out;
    out.reserve(sql.size() + 8);
    int next = 0;
    params = 0;
    char quote = 0;
    for (std::size_t i = 0; i < sql.size(); ++i) {
        const char c = sql[i];
        if (quote) {
            out += c;
            if (c == quote)
                quote = 0;
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            out += c;
            continue;
        }
        if (c != '?') {
            out += c;
            continue;
        }
        std::size_t j = i + 1;
        int n = 0;
        while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9')
            n = n * 10 + (sql[j++] - '0');
        if (j == i + 1)
            n = ++next;
        else
            next = std::max(next, n);
        params = std::max(params, n);
        out += '$' + std::to_string(n);
        i = j - 1;
    }
    return out;
}

std::string trimmed(const char* message) {
    std::string s = message ? message : "unknown error";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

class PostgresConnection;

class PostgresStatement final : public StatementImpl {
  public:
    PostgresStatement(PostgresConnection& c, std::string sql, int params)
        : c_(c), sql_(std::move(sql)), values_(static_cast<std::size_t>(params)),
          types_(static_cast<std::size_t>(params), text_oid) {}
    ~PostgresStatement() override { clear(); }

    void bind(int i, std::string_view text) override { set(i, std::string(text), text_oid); }
    void bind(int i, std::int64_t value) override { set(i, std::to_string(value), int8_oid); }
    void bind(int i, double value) override {
        char buffer[32];
        const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
        set(i, std::string(buffer, end), float8_oid);
    }

    Expected<bool> step() override;

    void reset() override {
        clear();
        for (auto& v : values_)
            v.reset();
    }

    std::int64_t int64(int column) const override {
        if (PQgetisnull(result_, row_, column))
            return 0;
        const char* v = PQgetvalue(result_, row_, column);
        if (v[0] == 't' || v[0] == 'f') // a boolean
            return v[0] == 't';
        return std::strtoll(v, nullptr, 10);
    }
    double real(int column) const override {
        return PQgetisnull(result_, row_, column)
                   ? 0.0
                   : std::strtod(PQgetvalue(result_, row_, column), nullptr);
    }
    std::string text(int column) const override {
        return std::string(PQgetvalue(result_, row_, column),
                           static_cast<std::size_t>(PQgetlength(result_, row_, column)));
    }

  private:
    void set(int i, std::string value, Oid type) {
        if (i < 1 || static_cast<std::size_t>(i) > values_.size())
            return;
        values_[static_cast<std::size_t>(i - 1)] = std::move(value);
        types_[static_cast<std::size_t>(i - 1)] = type;
    }
    void clear() {
        if (result_)
            PQclear(result_);
        result_ = nullptr;
        row_ = -1;
    }

    PostgresConnection& c_;
    std::string sql_;
    std::vector<std::optional<std::string>> values_;
    std::vector<Oid> types_;
    PGresult* result_ = nullptr;
    int row_ = -1;
};

class PostgresConnection final : public Connection {
  public:
    PostgresConnection(PGconn* conn, std::string uri)
        : conn_(conn), uri_(std::move(uri)), printable_(printable_database(uri_)) {}
    ~PostgresConnection() override { PQfinish(conn_); }

    bool postgres() const override { return true; }

    Expected<void> exec(const std::string& sql) override {
        if (auto ok = usable(); !ok)
            return ok;
        PGresult* r = PQexec(conn_, sql.c_str());
        auto ok = check(r, "database statement failed");
        if (ok)
            changes_ = std::strtoll(PQcmdTuples(r), nullptr, 10);
        PQclear(r);
        return ok;
    }

    Expected<Statement> prepare(const std::string& sql) override {
        int params = 0;
        std::string text = to_dollar_params(sql, params);
        return Statement(std::make_unique<PostgresStatement>(*this, std::move(text), params));
    }

    Expected<std::int64_t> changes() override { return changes_; }

    Expected<void> begin() override {
        return exec("BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(writer_lock) + ")");
    }

    Expected<bool> try_lock(std::int64_t key) override {
        if (auto ok = usable(); !ok)
            return std::unexpected(ok.error());
        const std::string sql = "SELECT pg_try_advisory_lock(" + std::to_string(key) + ")";
        PGresult* r = PQexec(conn_, sql.c_str());
        auto ok = check(r, "cannot take a lock");
        const bool taken = ok && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
        PQclear(r);
        if (!ok)
            return std::unexpected(ok.error());
        return taken;
    }

    void unlock(std::int64_t key) override {
        (void)exec("SELECT pg_advisory_unlock(" + std::to_string(key) + ")");
    }

    Expected<void> erase_deleted(const std::string& table) override {
        // Deleted rows are gone from every query at once; VACUUM frees their space for reuse.
        return exec("VACUUM " + table);
    }

    Expected<std::int64_t> data_version() override {
        return fail(ErrorCode::io_error, "PostgreSQL has no data version");
    }

    std::string description() const override { return printable_; }

    /// Runs a statement: prepared once per connection for its text and parameter types.
    Expected<PGresult*> run(const std::string& sql, const std::vector<Oid>& types,
                            const std::vector<std::optional<std::string>>& values) {
        if (auto ok = usable(); !ok)
            return std::unexpected(ok.error());
        std::string key = sql;
        key += '\0';
        key.append(reinterpret_cast<const char*>(types.data()), types.size() * sizeof(Oid));
        auto found = prepared_.find(key);
        if (found == prepared_.end()) {
            std::string name = "s"; // (not "s" + …: GCC 12 warns falsely of an overlap)
            name += std::to_string(prepared_.size());
            PGresult* r = PQprepare(conn_, name.c_str(), sql.c_str(),
                                    static_cast<int>(types.size()), types.data());
            auto ok = check(r, "cannot prepare statement");
            PQclear(r);
            if (!ok)
                return std::unexpected(ok.error());
            found = prepared_.emplace(std::move(key), name).first;
        }
        std::vector<const char*> pointers;
        pointers.reserve(values.size());
        for (const auto& v : values)
            pointers.push_back(v ? v->c_str() : nullptr);
        PGresult* r = PQexecPrepared(conn_, found->second.c_str(), static_cast<int>(values.size()),
                                     pointers.data(), nullptr, nullptr, 0);
        if (auto ok = check(r, "database statement failed"); !ok) {
            PQclear(r);
            return std::unexpected(ok.error());
        }
        changes_ = std::strtoll(PQcmdTuples(r), nullptr, 10);
        return r;
    }

  private:
    /// A connection that broke (the server restarted, the network failed) is reset here, before
    /// its next use: its prepared statements went with it.
    Expected<void> usable() {
        if (PQstatus(conn_) == CONNECTION_OK)
            return {};
        prepared_.clear();
        PQreset(conn_);
        if (PQstatus(conn_) == CONNECTION_OK)
            return {};
        return fail(ErrorCode::io_error,
                    printable_ + ": cannot connect: " +
                        hide_database_passwords(trimmed(PQerrorMessage(conn_)), uri_));
    }

    Expected<void> check(PGresult* r, std::string_view what) {
        const auto status = PQresultStatus(r);
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
            return {};
        const char* message = r ? PQresultErrorMessage(r) : nullptr;
        return fail(ErrorCode::io_error,
                    std::string(what) + ": " +
                        trimmed(message && *message ? message : PQerrorMessage(conn_)));
    }

    PGconn* conn_;
    std::string uri_; ///< to hide its passwords in libpq's messages
    std::string printable_;
    std::map<std::string, std::string> prepared_;
    std::int64_t changes_ = 0;
};

Expected<bool> PostgresStatement::step() {
    if (!result_) {
        auto r = c_.run(sql_, types_, values_);
        if (!r)
            return std::unexpected(r.error());
        result_ = *r;
        row_ = -1;
    }
    if (row_ + 1 >= PQntuples(result_)) {
        row_ = PQntuples(result_);
        return false;
    }
    ++row_;
    return true;
}

void ignore_notice(void*, const char*) {}

} // namespace

Expected<std::unique_ptr<Connection>> open_postgres(const std::string& uri) {
    // The URI's own settings win over these defaults (they come after). A database that stops
    // answering (a cut network sends no reset) fails a statement within about 30 s instead of
    // blocking the flush for the kernel's TCP timeout; no statement may run longer than 60 s.
    const char* keys[] = {"connect_timeout",
                          "application_name",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "tcp_user_timeout",
                          "options",
                          "dbname",
                          nullptr};
    const char* values[] = {
        "5",         "mixi-search", "10", "5", "3", "30000", "-c statement_timeout=60000",
        uri.c_str(), nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, 1);
    const std::string printable = printable_database(uri);
    if (!conn)
        return fail(ErrorCode::io_error, printable + ": cannot connect: out of memory");
    if (PQstatus(conn) != CONNECTION_OK) {
        std::string message = hide_database_passwords(trimmed(PQerrorMessage(conn)), uri);
        PQfinish(conn);
        return fail(ErrorCode::io_error, printable + ": cannot connect: " + message);
    }
    PQsetNoticeProcessor(conn, ignore_notice, nullptr);
    return std::unique_ptr<Connection>(std::make_unique<PostgresConnection>(conn, uri));
}

} // namespace mixi::analytics
