#include "analytics/views.h"

#include "common/dates.h"
#include "common/text_lines.h"
#include "common/utf8.h"

#include <charconv>
#include <cmath>
#include <unordered_map>

namespace mixi::analytics {

namespace fs = std::filesystem;

std::int64_t day_of(std::int64_t unix_seconds) {
    return unix_seconds >= 0 ? unix_seconds / 86400 : (unix_seconds - 86399) / 86400;
}

bool is_region_code(std::string_view code) {
    return code.size() == 2 && code[0] >= 'A' && code[0] <= 'Z' && code[1] >= 'A' && code[1] <= 'Z';
}

void ViewCounter::add(std::string_view id, std::string_view region, std::int64_t day,
                      std::int64_t n) {
    std::lock_guard lock(mutex_);
    counts_[{std::string(id), std::string(region), day}] += n;
}

std::vector<ViewCount> ViewCounter::take() {
    decltype(counts_) taken;
    {
        std::lock_guard lock(mutex_);
        taken.swap(counts_);
    }
    std::vector<ViewCount> out;
    out.reserve(taken.size());
    for (auto& [key, n] : taken)
        out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), n});
    return out;
}

std::size_t ViewCounter::pending() const {
    std::lock_guard lock(mutex_);
    return counts_.size();
}

Expected<ViewStore> ViewStore::open(const StoreLocation& where) {
    auto db = Database::connect(where);
    if (!db)
        return std::unexpected(db.error());
    return ViewStore(std::move(*db));
}

Expected<void> ViewStore::bump() {
    if (!db_.postgres())
        return {}; // SQLite counts every commit itself (PRAGMA data_version)
    auto q = db_.prepare(
        "UPDATE store_changes SET version = version + 1 WHERE name = 'views' RETURNING version");
    if (!q)
        return std::unexpected(q.error());
    auto row = q->step();
    if (!row)
        return std::unexpected(row.error());
    const std::int64_t version = *row ? q->int64(0) : 0;
    q->reset();
    // Only this write since the last look: it is not a change made elsewhere.
    if (seen_version_ && *seen_version_ + 1 == version)
        seen_version_ = version;
    return {};
}

Expected<void> ViewStore::add(const std::vector<ViewCount>& counts) {
    if (counts.empty())
        return {};
    auto tx = Transaction::begin(db_);
    if (!tx)
        return std::unexpected(tx.error());
    if (db_.postgres()) {
        // One statement whatever the number of counts: they go as arrays, each (document,
        // region, day) once (an upsert may not touch a row twice; an import may repeat one).
        std::map<std::tuple<std::string_view, std::string_view, std::int64_t>, std::int64_t> sums;
        for (const ViewCount& c : counts)
            sums[{c.id, c.region, c.day}] += c.count;
        std::string ids = "{", regions = "{", days = "{", ns = "{";
        auto quoted = [](std::string& out, std::string_view v) {
            out += out.size() > 1 ? ",\"" : "\"";
            for (char ch : v) {
                if (ch == '"' || ch == '\\')
                    out += '\\';
                out += ch;
            }
            out += '"';
        };
        for (const auto& [key, n] : sums) {
            quoted(ids, std::get<0>(key));
            quoted(regions, std::get<1>(key));
            if (days.size() > 1) {
                days += ',';
                ns += ',';
            }
            days += std::to_string(std::get<2>(key));
            ns += std::to_string(n);
        }
        auto upsert = db_.prepare(
            "INSERT INTO views (doc_id, region, day, count) SELECT * FROM unnest(CAST(?1 AS"
            " TEXT[]), CAST(?2 AS TEXT[]), CAST(?3 AS BIGINT[]), CAST(?4 AS BIGINT[]))"
            " ON CONFLICT (doc_id, region, day) DO UPDATE SET count = views.count + "
            "excluded.count");
        if (!upsert)
            return std::unexpected(upsert.error());
        upsert->bind(1, ids + "}").bind(2, regions + "}").bind(3, days + "}").bind(4, ns + "}");
        if (auto ok = upsert->run(); !ok)
            return ok;
    } else {
        auto upsert = db_.prepare("INSERT INTO views (doc_id, region, day, count) VALUES (?,?,?,?)"
                                  " ON CONFLICT (doc_id, region, day)"
                                  " DO UPDATE SET count = views.count + excluded.count");
        if (!upsert)
            return std::unexpected(upsert.error());
        for (const ViewCount& c : counts) {
            upsert->bind(1, c.id).bind(2, c.region).bind(3, c.day).bind(4, c.count);
            if (auto ok = upsert->run(); !ok)
                return std::unexpected(ok.error());
        }
    }
    if (auto ok = bump(); !ok)
        return std::unexpected(ok.error());
    return tx->commit();
}

Expected<ViewStats> ViewStore::stats() {
    ViewStats out;
    auto totals = db_.prepare("SELECT count(*), count(DISTINCT doc_id), coalesce(sum(count),0),"
                              " coalesce(min(day),0), coalesce(max(day),0) FROM views");
    if (!totals)
        return std::unexpected(totals.error());
    if (auto row = totals->step(); !row)
        return std::unexpected(row.error());
    out.rows = totals->int64(0);
    out.documents = totals->int64(1);
    out.views = totals->int64(2);
    out.first_day = totals->int64(3);
    out.last_day = totals->int64(4);
    auto regions = db_.prepare(
        "SELECT region, sum(count) AS n FROM views GROUP BY region ORDER BY n DESC, region");
    if (!regions)
        return std::unexpected(regions.error());
    if (auto ok =
            regions->each([&] { out.regions.emplace_back(regions->text(0), regions->int64(1)); });
        !ok)
        return std::unexpected(ok.error());
    return out;
}

Expected<std::shared_ptr<Popularity>> ViewStore::popularity(std::int64_t today,
                                                            const PopularityOptions& options) {
    // Views older than 20 half-lives weigh less than a millionth: leave them out.
    const double half_life = std::max(options.half_life_days, 0.01);
    const auto horizon =
        static_cast<std::int64_t>(std::ceil(popularity_horizon_half_lives * half_life));
    auto rows = db_.prepare("SELECT doc_id, region, day, count FROM views WHERE day >= ?");
    if (!rows)
        return std::unexpected(rows.error());
    rows->bind(1, today - horizon);
    auto snapshot = std::make_shared<Popularity>();
    if (auto ok = rows->each([&] {
            const double age =
                static_cast<double>(std::max<std::int64_t>(0, today - rows->int64(2)));
            const double weight = std::exp2(-age / half_life);
            snapshot->add(rows->text(0), rows->text(1),
                          static_cast<double>(rows->int64(3)) * weight);
        });
        !ok)
        return std::unexpected(ok.error());
    return snapshot;
}

Expected<bool> ViewStore::changed_elsewhere() {
    auto version = db_.postgres()
                       ? db_.scalar("SELECT version FROM store_changes WHERE name = 'views'")
                       : db_.data_version();
    if (!version)
        return std::unexpected(version.error());
    const bool changed = !seen_version_ || *seen_version_ != *version;
    seen_version_ = *version;
    return changed;
}

Expected<std::int64_t> ViewStore::remove_document(std::string_view id) {
    auto del = db_.prepare("DELETE FROM views WHERE doc_id = ?");
    if (!del)
        return std::unexpected(del.error());
    del->bind(1, id);
    if (auto ok = del->run(); !ok)
        return std::unexpected(ok.error());
    auto n = db_.changes();
    if (!n)
        return n;
    if (auto ok = bump(); !ok)
        return std::unexpected(ok.error());
    return n;
}

Expected<std::int64_t> ViewStore::remove_before(std::int64_t first_day, int batch_rows) {
    auto del = db_.prepare("DELETE FROM views WHERE (doc_id, region, day) IN"
                           " (SELECT doc_id, region, day FROM views WHERE day < ? LIMIT ?)");
    if (!del)
        return std::unexpected(del.error());
    // Small batches, each its own transaction: a flush waits at most one batch.
    std::int64_t removed = 0;
    for (;;) {
        del->bind(1, first_day).bind(2, std::int64_t{batch_rows});
        if (auto ok = del->run(); !ok)
            return std::unexpected(ok.error());
        auto n = db_.changes();
        if (!n)
            return std::unexpected(n.error());
        removed += *n;
        if (*n < batch_rows) {
            if (removed > 0)
                if (auto ok = bump(); !ok)
                    return std::unexpected(ok.error());
            return removed;
        }
    }
}

Expected<std::vector<std::string>> ViewStore::documents() {
    auto q = db_.prepare("SELECT DISTINCT doc_id FROM views ORDER BY doc_id");
    if (!q)
        return std::unexpected(q.error());
    std::vector<std::string> out;
    if (auto ok = q->each([&] { out.push_back(q->text(0)); }); !ok)
        return std::unexpected(ok.error());
    return out;
}

namespace {

/// Splits one CSV line (RFC 4180 quoting, no line breaks inside fields).
std::optional<std::vector<std::string>> split_csv(std::string_view line) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                fields.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                fields.back() += c;
            }
        } else if (c == '"' && fields.back().empty()) {
            quoted = true;
        } else if (c == ',') {
            fields.emplace_back();
        } else {
            fields.back() += c;
        }
    }
    if (quoted)
        return std::nullopt;
    return fields;
}

bool looks_like_url(std::string_view s) {
    return s.starts_with("http://") || s.starts_with("https://") || s.starts_with("/");
}

std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos)
        return "";
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

} // namespace

std::expected<std::optional<ViewCount>, std::string> ViewsCsvReader::read(std::string_view raw) {
    using Skip = std::unexpected<std::string>;
    const std::string line = trim(std::string(raw));
    if (line.empty() || line.starts_with('#'))
        return std::nullopt;
    if (!is_valid_utf8(line))
        return Skip("not valid UTF-8");
    auto fields = split_csv(line);
    if (!fields)
        return Skip("a quoted field is not closed");
    for (auto& f : *fields)
        f = trim(std::move(f));
    // A header line names the first column for every line.
    if (!seen_first_) {
        seen_first_ = true;
        if ((*fields)[0] == "id" || (*fields)[0] == "url") {
            first_column_ = (*fields)[0] == "id" ? Column::id : Column::url;
            return std::nullopt;
        }
    }
    if (fields->size() != 4)
        return Skip("expected 4 fields (document,region,day,count), found " +
                    std::to_string(fields->size()));
    const std::string& doc = (*fields)[0];
    const std::string& region = (*fields)[1];
    const std::string& day = (*fields)[2];
    const std::string& count = (*fields)[3];
    if (doc.empty())
        return Skip("the document is empty");
    if (!is_region_code(region))
        return Skip("region \"" + region + "\" is not a two-letter code such as JP");
    const auto seconds = day.size() == 10 ? parse_date(day) : std::nullopt;
    if (!seconds)
        return Skip("day \"" + day + "\" is not a date (YYYY-MM-DD)");
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
    if (ec != std::errc() || end != count.data() + count.size() || n < 0)
        return Skip("count \"" + count + "\" is not a whole number >= 0");
    const bool is_url =
        first_column_ == Column::url || (first_column_ == Column::guess && looks_like_url(doc));
    std::optional<std::string> id;
    if (is_url)
        id = options_.resolve_url ? options_.resolve_url(doc) : std::nullopt;
    else
        id = options_.resolve_id ? options_.resolve_id(doc) : std::optional<std::string>(doc);
    if (!id)
        return Skip(std::string(is_url ? "no indexed document has the URL "
                                       : "no indexed document has the id ") +
                    "\"" + doc + "\"");
    if (n == 0)
        return std::nullopt;
    return ViewCount{*id, region, day_of(*seconds), n};
}

Expected<ImportReport> import_views_csv(const fs::path& file, ViewStore& store,
                                        const ImportOptions& options) {
    ImportReport report;
    std::vector<ViewCount> counts;
    std::optional<Error> stopped;
    ViewsCsvReader reader(options);
    std::size_t line_no = 0;
    const bool opened = for_each_line(file, [&](std::string& raw) {
        ++line_no;
        if (stopped)
            return;
        auto count = reader.read(raw);
        if (!count) {
            ++report.skipped;
            if (options.on_problem)
                options.on_problem({line_no, count.error()});
            if (options.stop_on_error)
                stopped =
                    Error{ErrorCode::invalid_input,
                          file.string() + ":" + std::to_string(line_no) + ": " + count.error()};
        } else if (*count) {
            ++report.imported;
            report.views += (*count)->count;
            counts.push_back(std::move(**count));
        }
    });
    if (!opened)
        return fail(ErrorCode::not_found, "cannot read " + file.string());
    if (stopped)
        return std::unexpected(*stopped);
    if (auto ok = store.add(counts); !ok)
        return std::unexpected(ok.error());
    return report;
}

} // namespace mixi::analytics
