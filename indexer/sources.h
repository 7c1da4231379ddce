// Sources of records: NDJSON files and folders of HTML pages.
#pragma once

#include "indexer/record.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mixi::indexer {

/// What a source yields next: a record, or a problem that was skipped.
using SourceItem = std::variant<Record, SourceProblem>;

/// A stream of records. `next()` returns nothing at the end.
class Source {
  public:
    virtual ~Source() = default;
    virtual std::optional<SourceItem> next() = 0;
    /// Work done and total work in the source's own unit (bytes or files), for progress.
    virtual std::uint64_t done() const = 0;
    virtual std::uint64_t total() const = 0;
};

/// One JSON object per line. A record whose `visibility` is anything but exactly "public" (or
/// that has none, unless `missing_visibility` is public) yields only its id, not public, so
/// that it is removed whatever its other fields hold. Lines that are not objects or lack an
/// id, and public records with fields of the wrong type or value, are reported as problems and
/// skipped; blank lines are ignored. Invalid UTF-8 is repaired (U+FFFD) rather than losing the
/// record.
class NdjsonSource final : public Source {
  public:
    explicit NdjsonSource(std::filesystem::path path,
                          DefaultVisibility missing_visibility = DefaultVisibility::private_);
    std::optional<SourceItem> next() override;
    std::uint64_t done() const override { return done_; }
    std::uint64_t total() const override { return total_; }

  private:
    std::filesystem::path path_;
    std::ifstream in_;
    bool open_failed_reported_ = false;
    DefaultVisibility missing_visibility_;
    std::uint64_t line_no_ = 0, done_ = 0, total_ = 0;
};

/// Parses one JSON line into a record, or says why it cannot (exposed for tests and fuzzing).
std::variant<Record, std::string>
parse_ndjson_record(std::string_view line,
                    DefaultVisibility missing_visibility = DefaultVisibility::private_);

/// Every *.html / *.htm file under a folder, in path order. The id is the path relative to the
/// folder; the language comes from <html lang>, else from a language-named folder in the path
/// ("ja/book/page.html"), else from the text's script. Pages are public (a folder of HTML has
/// no visibility field, and the run's default does not apply), except: a page with
/// `<meta name="robots" content="noindex">` (complete_html_record), and hidden ones, whose
/// name or a folder of whose relative path starts with '.', which are yielded unread as not
/// public, so that an update also removes one indexed before.
class HtmlFolderSource final : public Source {
  public:
    explicit HtmlFolderSource(std::filesystem::path root, std::string url_prefix = "/");
    std::optional<SourceItem> next() override;
    std::uint64_t done() const override { return next_; }
    std::uint64_t total() const override { return files_.size(); }

  private:
    std::filesystem::path root_;
    std::string url_prefix_;
    std::vector<std::filesystem::path> files_;
    std::optional<SourceProblem> listing_problem_;
    std::size_t next_ = 0;
};

/// What an HTML page yields: title, meta description, language and visible text (without
/// script, style, template, noscript and navigation).
struct HtmlPage {
    std::string title;
    std::string description;
    std::string headings; ///< the text of the content's h1-h3, separated by spaces
    std::string lang;     ///< from <html lang>, as written
    std::string text;
    /// `<meta name="robots">` says noindex (or none): the page must not be searchable.
    bool noindex = false;
};
/// A page's title, description, language and main content: the text without scripts and without
/// the page's chrome (navigation, banners, headers and footers, Prev/Next bars, link lists).
HtmlPage parse_html(std::string_view html);

/// Fills title, body and language of a record whose `html` is set, and clears `html`. A page
/// that says robots noindex becomes not public (visibility "noindex"), with no text.
void complete_html_record(Record& record);

/// Records already in memory (tests, evaluation): each is public only if its code set
/// `visibility = "public"`.
class RecordsSource final : public Source {
  public:
    explicit RecordsSource(std::vector<Record> records) : records_(std::move(records)) {}
    std::optional<SourceItem> next() override {
        if (next_ >= records_.size())
            return std::nullopt;
        return std::move(records_[next_++]);
    }
    std::uint64_t done() const override { return next_; }
    std::uint64_t total() const override { return records_.size(); }

  private:
    std::vector<Record> records_;
    std::size_t next_ = 0;
};

/// A source for a path: a directory is an HTML folder, anything else NDJSON (whose records
/// without a visibility are `missing_visibility`).
std::unique_ptr<Source>
open_source(const std::filesystem::path& path,
            DefaultVisibility missing_visibility = DefaultVisibility::private_);

} // namespace mixi::indexer
