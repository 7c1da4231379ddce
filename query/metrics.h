// Relevance measures over one ranked list and its judgments (as trec_eval computes them).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace mixi::query {

using Judgments = std::map<std::string, int>; ///< document id -> graded relevance (> 0 relevant)

/// nDCG@k as pytrec_eval computes it for BEIR: gain = rel, discount log2(rank + 1).
double ndcg_at(const std::vector<std::string>& ranked, const Judgments& judged, std::size_t k);

/// Share of the relevant documents found in the first k.
double recall_at(const std::vector<std::string>& ranked, const Judgments& judged, std::size_t k);

/// 1 / rank of the first relevant document within the first k, else 0.
double mrr_at(const std::vector<std::string>& ranked, const Judgments& judged, std::size_t k);

} // namespace mixi::query
