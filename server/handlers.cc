#include "server/handlers.h"

#include "analytics/reports.h"
#include "analytics/search_log.h"
#include "analytics/trends.h"
#include "analyzers/language.h"
#include "common/database_url.h"
#include "common/dates.h"
#include "operations/delete_document.h"
#include "operations/synonyms.h"
#include "query/result_json.h"
#include "query/searcher.h"
#include "server/analytics_service.h"
#include "server/auth.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <fstream>
#include <iostream>
#include <sstream>

namespace mixi::server {

namespace json = boost::json;

namespace {

/// Reads an optional unsigned parameter; false (and an error response) when malformed.
bool read_unsigned(Context& ctx, const std::string& name, unsigned& out, Response& error) {
    const std::string v = ctx.params.get(name);
    if (v.empty())
        return true;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec == std::errc() && p == v.data() + v.size())
        return true;
    error = ctx.app.error(ctx.request, ApiError::invalid_argument,
                          name + " must be a non-negative integer");
    return false;
}

/// Reads an optional date parameter with `parse` (parse_date: the start of the period it names,
/// parse_date_end: just after its end); false (and an error response) when malformed.
bool read_date(Context& ctx, const std::string& name,
               std::optional<std::int64_t> (*parse)(std::string_view),
               std::optional<std::int64_t>& out, Response& error) {
    const std::string v = ctx.params.get(name);
    if (v.empty())
        return true;
    out = parse(v);
    if (out)
        return true;
    error = ctx.app.error(ctx.request, ApiError::invalid_argument,
                          name + ": \"" + v + "\" is not a date");
    return false;
}

bool read_flag(Context& ctx, const std::string& name, bool& out, Response& error,
               const char* absent = "0") {
    const std::string v = ctx.params.get(name, absent);
    if (v == "1" || v == "true") {
        out = true;
        return true;
    }
    if (v == "0" || v == "false") {
        out = false;
        return true;
    }
    error = ctx.app.error(ctx.request, ApiError::invalid_argument,
                          name + " must be 0, 1, true or false");
    return false;
}

/// The q parameter, checked for presence and decoded length.
bool read_query(Context& ctx, std::string& q, Response& error) {
    q = ctx.params.get("q");
    if (q.empty()) {
        error = ctx.app.error(ctx.request, ApiError::missing_parameter);
        return false;
    }
    if (q.size() > ctx.app.config().limits.query_bytes) {
        error = ctx.app.error(ctx.request, ApiError::query_too_long,
                              "q is longer than " +
                                  std::to_string(ctx.app.config().limits.query_bytes) + " bytes");
        return false;
    }
    return true;
}

Response library_error(Context& ctx, const Error& e) {
    const ApiError kind = api_error(e.code);
    if (http_error(kind).status == http::status::bad_request)
        return ctx.app.error(ctx.request, kind, e.message);
    // Index and I/O failures name server paths: log them, tell the client less.
    std::clog << "error: " << e.message << "\n";
    auto res = ctx.app.error(ctx.request, kind,
                             kind == ApiError::not_found ? http_error(ApiError::internal).message
                                                         : std::string_view{});
    if (res.result() == http::status::service_unavailable)
        res.set(http::field::retry_after, "1");
    return res;
}

Response unauthorized(Context& ctx, std::string_view message) {
    auto res = ctx.app.error(ctx.request, ApiError::unauthorized, message);
    res.set(http::field::www_authenticate, "Bearer");
    return res;
}

/// The admin API's gate: nullopt when the request carries a configured admin key; otherwise
/// 401 without a key and 403 with a wrong one. A client that sent too many wrong keys
/// (App::admin_guesses) gets 429 with Retry-After, and its key is not even compared, so that
/// guessing goes no faster than the limit whatever the answers say.
std::optional<Response> refuse_admin(Context& ctx) {
    const auto& keys = ctx.app.config().auth.admin_keys;
    if (keys.empty())
        return ctx.app.error(ctx.request, ApiError::admin_disabled);
    const auto header = ctx.request[http::field::authorization];
    if (!header.starts_with("Bearer ") || header.size() == 7)
        return unauthorized(ctx, "the admin API needs Authorization: Bearer <admin key>");
    const std::string client = client_key(ctx.app.client_of(ctx));
    if (auto wait = ctx.app.admin_guesses().take(client)) {
        auto res = ctx.app.error(ctx.request, ApiError::rate_limited,
                                 "too many wrong admin keys from this address; try again later");
        res.set(http::field::retry_after, std::to_string(*wait));
        return res;
    }
    if (!admin_key_matches(header.substr(7), keys))
        return ctx.app.error(ctx.request, ApiError::forbidden);
    ctx.app.admin_guesses().give_back(client);
    return std::nullopt;
}

/// The search log, after everything still in memory has been stored.
Expected<analytics::SearchLog> synced_log(Context& ctx) {
    if (AnalyticsService* analytics = ctx.app.services().analytics)
        analytics->sync();
    return analytics::SearchLog::open(analytics_store(ctx.app.config()));
}

Response json_ok(Context& ctx, const json::value& v) {
    return ctx.app.json(ctx.request, http::status::ok, json::serialize(v));
}

} // namespace

Response get_account_export(Context& ctx) {
    if (auto refused = refuse_admin(ctx))
        return std::move(*refused);
    const std::string account = ctx.params.get("account");
    auto log = synced_log(ctx);
    if (!log)
        return library_error(ctx, log.error());
    auto history = log->account_history(account);
    if (!history)
        return library_error(ctx, history.error());
    return ctx.app.json(ctx.request, http::status::ok, analytics::export_json(account, *history));
}

Response delete_account(Context& ctx) {
    if (auto refused = refuse_admin(ctx))
        return std::move(*refused);
    std::optional<std::int64_t> from, to;
    Response bad;
    if (!read_date(ctx, "from", parse_date, from, bad) ||
        !read_date(ctx, "to", parse_date_end, to, bad))
        return bad;
    auto log = synced_log(ctx);
    if (!log)
        return library_error(ctx, log.error());
    auto n = log->delete_account(ctx.params.get("account"), from, to);
    if (!n)
        return library_error(ctx, n.error());
    return json_ok(ctx, json::object{{"deleted", *n}});
}

Response delete_account_entry(Context& ctx) {
    if (auto refused = refuse_admin(ctx))
        return std::move(*refused);
    std::int64_t entry = 0;
    const std::string e = ctx.params.get("entry");
    const auto [end, ec] = std::from_chars(e.data(), e.data() + e.size(), entry);
    if (ec != std::errc() || end != e.data() + e.size())
        return ctx.app.error(ctx.request, ApiError::invalid_argument,
                             "the entry must be the id of a search from the export");
    auto log = synced_log(ctx);
    if (!log)
        return library_error(ctx, log.error());
    auto n = log->delete_entry(ctx.params.get("account"), entry);
    if (!n)
        return library_error(ctx, n.error());
    if (*n == 0)
        return ctx.app.error(ctx.request, ApiError::not_found,
                             "this account has no search with that id");
    return json_ok(ctx, json::object{{"deleted", *n}});
}

Response delete_document(Context& ctx) {
    if (auto refused = refuse_admin(ctx))
        return std::move(*refused);
    const std::string id = ctx.params.get("id");
    // Remote shards are written on their hosts, by the writer of the index they were built
    // from: nothing here can delete from them.
    const auto& shards = ctx.app.config().shards;
    if (std::any_of(shards.begin(), shards.end(),
                    [](const std::string& s) { return query::is_remote_shard(s); }))
        return ctx.app.error(ctx.request, ApiError::read_only_copy);
    // This server's view counts are in memory too: the service forgets them everywhere.
    operations::ForgetViews forget_views;
    if (AnalyticsService* analytics = ctx.app.services().analytics)
        forget_views = [analytics](std::string_view doc) {
            return analytics->forget_document(doc);
        };
    auto report =
        operations::delete_document_everywhere(ctx.app.config().index, {id}, forget_views);
    ctx.app.index_changed(); // also after a failure part-way: the index may have changed
    if (!report)
        return library_error(ctx, report.error());
    if (report->deleted.empty())
        return ctx.app.error(ctx.request, ApiError::not_found,
                             "no indexed document has this id (its view counts are gone too)");
    return json_ok(ctx, json::object{{"deleted", id}});
}

namespace {

/// Whether this server searches remote shards, which are written on their hosts.
bool searches_remote_shards(Context& ctx) {
    const auto& shards = ctx.app.config().shards;
    return std::any_of(shards.begin(), shards.end(),
                       [](const std::string& s) { return query::is_remote_shard(s); });
}

/// 409 for a change of synonyms on a copy of the index (remote shards, a replica).
Response synonyms_read_only(Context& ctx) {
    return ctx.app.error(ctx.request, ApiError::read_only_copy,
                         "this server searches a copy of the index (a replica or remote shards): "
                         "change synonyms where the index is written, with `mixi-search "
                         "synonyms` on the writer; every copy follows");
}

Response synonyms_error(Context& ctx, const Error& e) {
    if (e.code == ErrorCode::read_only_copy)
        return synonyms_read_only(ctx);
    return library_error(ctx, e);
}

} // namespace

Response get_synonyms(Context& ctx) {
    if (auto refused = refuse_admin(ctx))
        return std::move(*refused);
    // Over remote shards searches read the synonyms of the local copy (shards.spelling_index).
    std::filesystem::path index = ctx.app.config().index;
    if (searches_remote_shards(ctx)) {
        index = ctx.app.config().search.spelling_index;
        if (index.empty())
            return json_ok(ctx, json::object{{"synonyms", json::object{}}, {"count", 0}});
    }
    auto list = operations::list_synonyms(index);
    if (!list)
        return synonyms_error(ctx, list.error());
    json::object synonyms;
    for (const auto& [word, expansions] : *list)
        synonyms[word] = json::array(expansions.begin(), expansions.end());
    return json_ok(ctx, json::object{{"synonyms", std::move(synonyms)}, {"count", list->size()}});
}

Response put_synonyms(Context& ctx) {
    if (auto refused = refuse_admin(ctx))
        return std::move(*refused);
    if (searches_remote_shards(ctx))
        return synonyms_read_only(ctx);
    auto imported = operations::import_synonyms(ctx.app.config().index, ctx.request.body(), "body");
    if (!imported)
        return synonyms_error(ctx, imported.error());
    ctx.app.index_changed();
    return json_ok(ctx,
                   json::object{{"words", imported->words}, {"expansions", imported->expansions}});
}

Response delete_synonym(Context& ctx) {
    if (auto refused = refuse_admin(ctx))
        return std::move(*refused);
    if (searches_remote_shards(ctx))
        return synonyms_read_only(ctx);
    const std::string word = ctx.params.get("word");
    auto deleted = operations::delete_synonym(ctx.app.config().index, word);
    if (!deleted)
        return synonyms_error(ctx, deleted.error());
    if (!*deleted)
        return ctx.app.error(ctx.request, ApiError::not_found, "no synonym has this word");
    ctx.app.index_changed();
    return json_ok(ctx, json::object{{"deleted", word}});
}

namespace {

/// A BCP 47 language tag as a cookie may hold it: "ja", "en-GB", "zh-Hant-TW".
bool valid_language_tag(std::string_view tag) {
    if (tag.empty() || tag.size() > 35 || analyzers::primary_language(tag).empty())
        return false;
    return std::all_of(tag.begin(), tag.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-';
    });
}

/// The searcher's language: the lang cookie they chose, else their browser's first choice in
/// Accept-Language, else "".
std::string preferred_language(const Request& request) {
    const std::string_view cookies = request[http::field::cookie];
    for (std::size_t at = 0; at < cookies.size();) {
        const auto end = std::min(cookies.find(';', at), cookies.size());
        std::string_view pair = cookies.substr(at, end - at);
        while (pair.starts_with(' '))
            pair.remove_prefix(1);
        if (pair.starts_with("lang=") && valid_language_tag(pair.substr(5)))
            return std::string(pair.substr(5));
        at = end + 1;
    }
    // "ja-JP,ja;q=0.9,en;q=0.8": the tag with the highest q (the first of equals).
    const std::string_view accept = request[http::field::accept_language];
    std::string best;
    double best_q = 0;
    for (std::size_t at = 0; at < accept.size();) {
        const auto end = std::min(accept.find(',', at), accept.size());
        std::string_view item = accept.substr(at, end - at);
        at = end + 1;
        while (item.starts_with(' '))
            item.remove_prefix(1);
        const auto semi = item.find(';');
        std::string_view tag = item.substr(0, semi);
        while (tag.ends_with(' '))
            tag.remove_suffix(1);
        double q = 1;
        if (semi != std::string_view::npos) {
            const auto qpos = item.find("q=", semi);
            if (qpos != std::string_view::npos) {
                const std::string_view qs = item.substr(qpos + 2);
                auto [p, ec] = std::from_chars(qs.data(), qs.data() + qs.size(), q);
                if (ec != std::errc())
                    q = 0;
            }
        }
        if (q > best_q && valid_language_tag(tag)) {
            best = std::string(tag);
            best_q = q;
        }
    }
    return best;
}

} // namespace

Response post_prefs(Context& ctx) {
    boost::system::error_code ec;
    const json::value body = json::parse(ctx.request.body(), ec);
    const json::object* o = ec ? nullptr : body.if_object();
    const json::value* lang = o ? o->if_contains("lang") : nullptr;
    if (!o || o->size() != 1 || !lang || !(lang->is_string() || lang->is_null()))
        return ctx.app.error(
            ctx.request, ApiError::invalid_argument,
            "the body must be {\"lang\": \"<BCP 47 tag>\"} (or null to forget it)");
    Response res{http::status::no_content, ctx.request.version()};
    res.keep_alive(ctx.request.keep_alive());
    res.set(http::field::cache_control, "no-store");
    if (lang->is_null()) {
        res.set(http::field::set_cookie, "lang=; Path=/; Max-Age=0; SameSite=Lax");
        return res;
    }
    const std::string tag(lang->get_string());
    if (!valid_language_tag(tag))
        return ctx.app.error(ctx.request, ApiError::invalid_argument,
                             "lang must be a language tag such as ja or en-GB");
    // The one cookie this server ever sets: the language the user picked, nothing else.
    res.set(http::field::set_cookie, "lang=" + tag + "; Path=/; Max-Age=31536000; SameSite=Lax");
    return res;
}

Response get_privacy(Context& ctx) {
    const ServerConfig& c = ctx.app.config();
    const bool regions = ctx.app.services().geoip != nullptr;
    json::object out{
        {"client_address",
         "used in memory to look up the region and, reduced to its network, a daily keyed hash "
         "that counts distinct searchers; never stored or logged"},
        {"distinct_searcher",
         json::object{{"counted_by", "network"},
                      {"ipv4_prefix", 24},
                      {"ipv6_prefix", 48},
                      {"user_agent", false},
                      {"key", is_postgres_url(c.analytics_database)
                                  ? "HMAC-SHA256 under a random daily secret the servers share"
                                    " through the analytics database, deleted when its day ends"
                                  : "HMAC-SHA256 under a random salt held in memory, replaced"
                                    " daily"}}},
        {"region", regions ? c.geoip.level : std::string("none")},
        {"search_log",
         json::object{{"row", json::array{"hour", "query (scrubbed)", "language", "country",
                                          "result count", "account id (signed-in searches only)"}},
                      {"scrubbed", json::value_from(analytics::scrubbed_kinds())},
                      {"max_query_characters", analytics::max_query_chars},
                      {"retention_days", c.retention_days},
                      {"aggregate_retention_days", c.aggregate_retention_days},
                      {"only_first_pages_of_finished_searches", true}}},
        {"aggregates",
         json::object{
             {"daily_volume",
              json::array{"day", "language", "country", "searches", "zero-result searches"}},
             {"query_text_kept_only_above_thresholds", true},
             {"below_thresholds", "once the day is over, only counted in the daily volume"},
             {"below_thresholds_kept_for_public_trends_days",
              c.trends.enabled ? json::value(std::min(3 * c.trends.days, c.retention_days))
                               : json::value(0)}}},
        {"do_not_track", "Sec-GPC: 1 or DNT: 1: counted only in the daily search volume (no "
                         "text); no log row, no account link, no query in any aggregate"},
        {"reports", json::object{{"min_searches", c.report_k},
                                 {"min_distinct_searchers", c.report_k_distinct}}},
        {"suggest_completions", json::object{{"min_searches", c.report_k},
                                             {"min_distinct_searchers", c.report_k_distinct},
                                             {"min_days", analytics::popular_min_days}}},
        {"public_trends",
         c.trends.enabled ? json::value(json::object{{"differential_privacy", "per searcher-day"},
                                                     {"epsilon", c.trends.epsilon},
                                                     {"delta", c.trends.delta},
                                                     {"days", c.trends.days}})
                          : json::value(false)},
        {"page_views", "counted per document, region and day; nothing about the viewer; "
                       "deleted with their document"},
        {"page_view_retention_days", c.view_retention_days},
        {"cookies", json::array{"lang (only when you pick a language; one year)"}},
        {"access_log", "method, route, status, bytes, duration; no address, query or account"},
        {"signed_in_searches", !c.auth.account_secret.empty()},
    };
    return json_ok(ctx, out);
}

namespace {

/// The report a request asks for, with the configured thresholds, and its format; false (and
/// an error response) when a parameter is malformed.
bool read_report_request(Context& ctx, analytics::ReportRequest& req, std::string& format,
                         Response& error) {
    const auto kind = analytics::report_kind(ctx.params.get("kind"));
    if (!kind) {
        error = ctx.app.error(ctx.request, ApiError::not_found,
                              "reports are popular, zero-results, trending and volume");
        return false;
    }
    req.kind = *kind;
    // The configured thresholds apply to every report; no parameter lowers them.
    req.k = ctx.app.config().report_k;
    req.k_distinct = ctx.app.config().report_k_distinct;
    req.country = ctx.params.get("country");
    req.lang = ctx.params.get("lang");
    unsigned top = 20;
    if (!read_unsigned(ctx, "top", top, error))
        return false;
    if (top < 1 || top > 1000) {
        error = ctx.app.error(ctx.request, ApiError::invalid_argument,
                              "top must be between 1 and 1000");
        return false;
    }
    req.top = top;
    std::optional<std::int64_t> from, to;
    if (!read_date(ctx, "from", parse_date, from, error) ||
        !read_date(ctx, "to", parse_date, to, error))
        return false;
    const auto period = analytics::report_period(std::time(nullptr), from, to);
    req.from_day = period.from_day;
    req.to_day = period.to_day;
    format = ctx.params.get("format", "json");
    if (format != "json" && format != "csv") {
        error =
            ctx.app.error(ctx.request, ApiError::invalid_argument, "format must be json or csv");
        return false;
    }
    return true;
}

/// A CSV download named `name`.csv.
Response csv_attachment(Context& ctx, std::string_view name, std::string body) {
    Response res{http::status::ok, ctx.request.version()};
    res.set(http::field::content_type, "text/csv; charset=utf-8");
    res.set(http::field::content_disposition,
            "attachment; filename=\"" + std::string(name) + ".csv\"");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(ctx.request.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

} // namespace

Response get_report(Context& ctx) {
    if (auto refused = refuse_admin(ctx))
        return std::move(*refused);
    analytics::ReportRequest req;
    std::string format;
    Response bad;
    if (!read_report_request(ctx, req, format, bad))
        return bad;
    if (AnalyticsService* analytics = ctx.app.services().analytics)
        analytics->sync();
    auto db = analytics::Database::connect(analytics_store(ctx.app.config()));
    if (!db)
        return library_error(ctx, db.error());
    auto report = analytics::build_report(*db, req);
    if (!report)
        return library_error(ctx, report.error());
    if (format == "json")
        return ctx.app.json(ctx.request, http::status::ok, analytics::report_json(*report));
    return csv_attachment(ctx, analytics::report_name(req.kind), analytics::report_csv(*report));
}

Response get_trends(Context& ctx) {
    const TrendsConfig& config = ctx.app.config().trends;
    if (!config.enabled)
        return ctx.app.error(ctx.request, ApiError::not_found,
                             "this server does not publish trends (trends.enabled)");
    unsigned top = static_cast<unsigned>(config.top);
    Response bad;
    if (!read_unsigned(ctx, "top", top, bad))
        return bad;
    if (top < 1 || top > config.top)
        return ctx.app.error(ctx.request, ApiError::invalid_argument,
                             "top must be between 1 and " + std::to_string(config.top));
    const std::int64_t now = std::time(nullptr);
    analytics::TrendRequest req = analytics::latest_period(now, config.days);
    req.top = top;
    req.k = ctx.app.config().report_k;
    const analytics::DpOptions dp{config.epsilon, config.delta};
    auto db = analytics::Database::connect(analytics_store(ctx.app.config()));
    if (!db)
        return library_error(ctx, db.error());
    // A new release must include the period's last searches, which may still be in memory
    // (it never changes once made); a stored one needs nothing stored first.
    auto stored = analytics::has_release(*db, req, dp);
    if (!stored)
        return library_error(ctx, stored.error());
    if (AnalyticsService* analytics = ctx.app.services().analytics; analytics && !*stored)
        analytics->sync();
    auto release = analytics::release_trends(*db, req, dp, now);
    if (!release)
        return library_error(ctx, release.error());
    return ctx.app.json(ctx.request, http::status::ok, analytics::trends_json(*release));
}

namespace {

/// The search a request asks for; false (and an error response) when a parameter is malformed.
bool read_search_request(Context& ctx, query::SearchRequest& req, Response& error) {
    if (!read_query(ctx, req.q, error) || !read_unsigned(ctx, "page", req.page, error) ||
        !read_unsigned(ctx, "per_page", req.per_page, error) ||
        !read_flag(ctx, "prefix", req.prefix, error) ||
        !read_flag(ctx, "all", req.match_all, error) ||
        !read_flag(ctx, "facets", req.facets, error) ||
        !read_flag(ctx, "explain", req.explain, error) ||
        !read_flag(ctx, "typos", req.typos, error, "1"))
        return false;
    req.types = ctx.params.all("type");
    req.langs = ctx.params.all("lang");
    req.from = ctx.params.get("from");
    req.to = ctx.params.get("to");
    const std::string sort = ctx.params.get("sort", "relevance");
    if (sort != "relevance" && sort != "date") {
        error = ctx.app.error(ctx.request, ApiError::invalid_argument,
                              "sort must be relevance or date");
        return false;
    }
    req.sort = sort == "date" ? query::Sort::date : query::Sort::relevance;
    req.preferred_lang = preferred_language(ctx.request);
    return true;
}

/// The account of a signed-in search ("" when anonymous). A signed-in search carries the token
/// the website signed; a bad one is refused (false and an error response) rather than silently
/// logged as anonymous.
bool read_account(Context& ctx, std::string& account, Response& error) {
    const auto token = ctx.request["X-Account-Token"];
    if (token.empty())
        return true;
    const std::string& secret = ctx.app.config().auth.account_secret;
    if (secret.empty()) {
        error = unauthorized(ctx, "signed-in search is not enabled on this server");
        return false;
    }
    auto verified = verify_account_token(token, secret, std::time(nullptr));
    if (!verified) {
        error = unauthorized(ctx, verified.error().message);
        return false;
    }
    account = std::move(*verified);
    return true;
}

/// Hands a finished search to the search-term log.
void log_search(Context& ctx, AnalyticsService& analytics, const query::SearchRequest& req,
                const query::SearchResult& result, std::string account) {
    analytics::RawSearch report;
    report.query = req.q;
    report.lang = result.query_lang;
    report.country = req.region;
    report.results = result.total;
    report.do_not_track = analytics::asks_not_to_track(ctx.request["Sec-GPC"], ctx.request["DNT"]);
    report.account = std::move(account);
    // The searcher is counted by network (analytics::searcher_network); no User-Agent.
    analytics.log_search(std::move(report), ctx.app.client_of(ctx).to_string());
}

} // namespace

Response get_search(Context& ctx) {
    query::SearchRequest req;
    std::string account;
    Response bad;
    if (!read_search_request(ctx, req, bad) || !read_account(ctx, account, bad))
        return bad;
    // What a score is made of shows each hit's decayed view counts (and, through the parts, lets
    // anyone work them out): an operator's tool, behind the admin API's gate.
    if (req.explain)
        if (auto refused = refuse_admin(ctx))
            return std::move(*refused);
    AnalyticsService* analytics = ctx.app.services().analytics;
    if (analytics) {
        req.popularity = analytics->popularity();
        req.region = ctx.app.region_of(ctx);
    }
    auto searcher = ctx.app.searcher();
    if (!searcher)
        return library_error(ctx, searcher.error());
    auto result = (*searcher)->search(req);
    if (!result)
        return library_error(ctx, result.error());
    // The search-term log counts what people looked for: first pages of finished queries, not
    // every keystroke of search-as-you-type or the next pages of a search already counted.
    if (analytics && req.page == 1 && !req.prefix)
        log_search(ctx, *analytics, req, *result, std::move(account));
    return ctx.app.json(ctx.request, http::status::ok, json::serialize(query::to_json(*result)));
}

Response post_views(Context& ctx) {
    AnalyticsService* views = ctx.app.services().analytics;
    if (!views)
        return ctx.app.error(ctx.request, ApiError::views_disabled);
    // navigator.sendBeacon sends a string as text/plain; fetch() and others send JSON.
    const auto type = ctx.request[http::field::content_type];
    if (!type.empty() && !type.starts_with("application/json") && !type.starts_with("text/plain"))
        return ctx.app.error(ctx.request, ApiError::unsupported_media_type);
    boost::system::error_code ec;
    const json::value body = json::parse(ctx.request.body(), ec);
    const json::object* o = ec ? nullptr : body.if_object();
    const json::string* id = o && o->contains("id") ? o->at("id").if_string() : nullptr;
    const json::string* url = o && o->contains("url") ? o->at("url").if_string() : nullptr;
    if (!o || (!id && !url) || (id && url) || o->size() != 1)
        return ctx.app.error(ctx.request, ApiError::invalid_argument,
                             "the body must be a JSON object with one string field, "
                             "\"id\" or \"url\"");
    auto searcher = ctx.app.searcher();
    if (!searcher)
        return library_error(ctx, searcher.error());
    std::optional<std::string> doc;
    if (id && (*searcher)->has_document(*id))
        doc = std::string(*id);
    else if (url)
        doc = (*searcher)->id_for_url(*url);
    if (!doc)
        return ctx.app.error(ctx.request, ApiError::unknown_document,
                             "no indexed document has this " + std::string(id ? "id" : "url"));
    views->count(*doc, ctx.app.region_of(ctx));
    Response res{http::status::no_content, ctx.request.version()};
    res.keep_alive(ctx.request.keep_alive());
    res.set(http::field::cache_control, "no-store");
    return res;
}

Response get_suggest(Context& ctx) {
    query::SuggestRequest req;
    Response bad;
    if (!read_query(ctx, req.q, bad) || !read_unsigned(ctx, "limit", req.limit, bad))
        return bad;
    if (AnalyticsService* analytics = ctx.app.services().analytics)
        req.popular = analytics->popular_searches();
    auto searcher = ctx.app.searcher();
    if (!searcher)
        return library_error(ctx, searcher.error());
    auto result = (*searcher)->suggest(req);
    if (!result)
        return library_error(ctx, result.error());
    json::object out;
    json::array completions(result->completions.begin(), result->completions.end());
    out["completions"] = std::move(completions);
    json::array titles;
    for (const auto& h : result->titles)
        titles.push_back(json::object{
            {"id", h.id}, {"url", h.url}, {"title", h.title}, {"type", h.type}, {"lang", h.lang}});
    out["titles"] = std::move(titles);
    out["popular"] = json::array(result->popular.begin(), result->popular.end());
    return ctx.app.json(ctx.request, http::status::ok, json::serialize(out));
}

Response get_healthz(Context& ctx) {
    json::object out;
    out["uptime_seconds"] = ctx.app.metrics().uptime_seconds();
    auto searcher = ctx.app.searcher();
    if (!searcher)
        return library_error(ctx, searcher.error());
    out["status"] = "ok";
    if (const AnalyticsService* analytics = ctx.app.services().analytics) {
        // Searches are answered either way; analytics wait in memory for their store.
        const AnalyticsHealth h = analytics->health();
        if (!h.store_ok)
            out["status"] = "degraded";
        out["analytics"] = json::object{{"store", h.store_ok ? "ok" : "unavailable"},
                                        {"held_events", h.held_events},
                                        {"dropped_events", h.dropped_events}};
    }
    out["index"] = json::object{{"revision", (*searcher)->revision()},
                                {"documents", (*searcher)->document_count()},
                                {"version", (*searcher)->database_path().filename().string()}};
    return ctx.app.json(ctx.request, http::status::ok, json::serialize(out));
}

Response get_metrics(Context& ctx) {
    Response res{http::status::ok, ctx.request.version()};
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(ctx.request.keep_alive());
    res.body() = ctx.app.metrics().render();
    if (const AnalyticsService* analytics = ctx.app.services().analytics)
        res.body() += analytics->metrics_text();
    res.prepare_payload();
    return res;
}

namespace {

/// The origin a request reached, for the absolute URLs of the OpenSearch description: its Host
/// header when that is only a host name or address with an optional port, with https when a
/// trusted proxy says so in X-Forwarded-Proto. nullopt when there is no usable Host.
std::optional<std::string> request_origin(const Context& ctx) {
    const std::string_view host = ctx.request[http::field::host];
    if (host.empty() || host.size() > 255)
        return std::nullopt;
    for (const char c : host)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' &&
            c != '[' && c != ']')
            return std::nullopt;
    const auto& proxies = ctx.app.services().trusted_proxies;
    const bool proxied = std::any_of(proxies.begin(), proxies.end(),
                                     [&](const Network& n) { return n.contains(ctx.peer); });
    const bool https = proxied && ctx.request["X-Forwarded-Proto"] == "https";
    return (https ? "https://" : "http://") + std::string(host);
}

} // namespace

Response get_opensearch(Context& ctx) {
    // web/opensearch.xml with "{origin}" replaced: OpenSearch templates must be absolute URLs,
    // and only the request knows the name this server is reached by.
    std::ifstream in(ctx.app.config().web_root / "opensearch.xml", std::ios::binary);
    if (!in)
        return ctx.app.error(ctx.request, ApiError::not_found);
    const auto origin = request_origin(ctx);
    if (!origin)
        return ctx.app.error(ctx.request, ApiError::bad_request,
                             "the Host header is missing or not a host name");
    std::ostringstream bytes;
    bytes << in.rdbuf();
    std::string text = bytes.str();
    const std::string_view placeholder = "{origin}";
    for (auto at = text.find(placeholder); at != std::string::npos;
         at = text.find(placeholder, at + origin->size()))
        text.replace(at, placeholder.size(), *origin);
    Response res{http::status::ok, ctx.request.version()};
    res.set(http::field::content_type, "application/opensearchdescription+xml");
    res.set(http::field::cache_control, "no-cache");
    res.set(http::field::vary, "Host");
    res.keep_alive(ctx.request.keep_alive());
    res.body() = std::move(text);
    res.prepare_payload();
    return res;
}

std::vector<Route> routes() {
    return {
        {http::verb::get,
         "/v1/search",
         {"q", "page", "per_page", "type", "lang", "from", "to", "sort", "prefix", "all", "facets",
          "explain", "typos"},
         {"type", "lang"},
         get_search},
        {http::verb::get, "/v1/suggest", {"q", "limit"}, {}, get_suggest},
        {http::verb::post, "/v1/views", {}, {}, post_views},
        {http::verb::post, "/v1/prefs", {}, {}, post_prefs},
        {http::verb::get, "/v1/privacy", {}, {}, get_privacy},
        {http::verb::get, "/v1/trends", {"top"}, {}, get_trends, Work::blocking},
        {http::verb::get,
         "/v1/admin/accounts/{account}/export",
         {},
         {},
         get_account_export,
         Work::blocking},
        {http::verb::delete_,
         "/v1/admin/accounts/{account}",
         {"from", "to"},
         {},
         delete_account,
         Work::blocking},
        {http::verb::delete_, "/v1/admin/documents/{id}", {}, {}, delete_document, Work::blocking},
        {http::verb::get, "/v1/admin/synonyms", {}, {}, get_synonyms, Work::blocking},
        {http::verb::put, "/v1/admin/synonyms", {}, {}, put_synonyms, Work::blocking},
        {http::verb::delete_, "/v1/admin/synonyms/{word}", {}, {}, delete_synonym, Work::blocking},
        {http::verb::get,
         "/v1/admin/reports/{kind}",
         {"from", "to", "country", "lang", "top", "format"},
         {},
         get_report,
         Work::blocking},
        {http::verb::delete_,
         "/v1/admin/accounts/{account}/searches/{entry}",
         {},
         {},
         delete_account_entry,
         Work::blocking},
        {http::verb::get, "/healthz", {}, {}, get_healthz},
        {http::verb::get, "/metrics", {}, {}, get_metrics},
        {http::verb::get, "/opensearch.xml", {}, {}, get_opensearch},
    };
}

} // namespace mixi::server
