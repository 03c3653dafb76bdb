"""What each reject reason means, in a sentence for the reviewer; and which reasons record routing.

A reason is a counter name the stages write to ``rejected/``. Most are listed here; families of reasons
(``missing_<field>``, ``dropped_<filter>``, ``failed_<kind>``) are described by their prefix, so a new
field or filter still gets a sentence. Routing reasons record article x sub-category pairs that were never
made into a candidate: they are not losses, and the report lists them apart from the rejections.
"""

from __future__ import annotations

REASONS: dict[str, str] = {
    # corpus: reading files
    "unsupported_format": "a file type the corpus stage does not read (see the supported formats in the README)",
    "missing_source": "a configured source folder or file does not exist, or its include pattern matches nothing",
    "empty_file": "the file has no bytes or no text",
    "unreadable_encoding": "the bytes decode in none of the tried encodings (UTF-8/UTF-16/GB18030 …)",
    "unreadable_file": "the file could not be opened or parsed",
    "unreadable_folder": "a folder could not be listed (permissions, a symlink loop or a dangling link)",
    "unreadable_record": "one record of a JSON/CSV/Parquet file could not be read",
    "missing_text_field": "a record has none of the configured text fields",
    "text_field_type": "a record's text field is not a string",
    "corrupt_pdf": "the PDF is damaged and pypdf cannot read it",
    "encrypted_pdf": "the PDF is encrypted",
    "garbled_pdf": "the PDF's extracted text is mostly mojibake (a font without a Unicode map)",
    "truncated_pdf": "the PDF ends early; the pages before the damage were kept only if readable",
    "no_main_text": "the HTML page has no main article text after boilerplate removal",
    "not_a_feed": "a configured feed URL did not return RSS or Atom",
    "invalid_entry_point": "a crawl entry point (sitemap, feed or seed) is not a usable URL",
    "robots_disallowed": "robots.txt forbids fetching this URL",
    "robots_noindex": "the page asks not to be indexed (robots meta noindex)",
    "skipped_content_type": "the server returned a content type the crawler does not read",
    "older_than_since": "the page is older than the crawl's since date",
    # corpus: cleaning
    "dropped_too_short": "fewer characters than [corpus.clean] min_chars after cleaning",
    "dropped_too_long": "more characters than the configured maximum",
    "dropped_cjk_ratio": "too few Han characters among the non-space characters (not Chinese text)",
    "dropped_garbled": "too many replacement or control characters (broken decoding)",
    "dropped_dup_lines": "too many repeated lines (navigation, lists of links)",
    "dropped_dup_ngrams": "too many repeated character n-grams (spam, templates)",
    "dropped_empty": "nothing left after cleaning",
    # dedup
    "duplicate_exact": "the same normalised text as a kept document",
    "duplicate_near": "a near-duplicate (MinHash, verified by Jaccard or containment) of a kept document",
    # templates
    "unrouted_article": "routing: no sub-category's genre and fields fit the article, so it made no candidate",
    "over_cap": "beyond the sub-category's item cap (a seeded sample is kept)",
    "over_source_cap": "the corpus source is over its share of the items ([templates] max_source_share)",
    "duplicate_item": "the same instruction, input and output as an earlier item",
    "output_repeats_item": "the same written answer from a like input as another sub-category's item of the article (the first in catalog order keeps it)",
    "skipped_needs_llm": "the input or answer must be written by a model and no endpoint is configured",
    "llm_failed": "the model request for the input or answer failed (retried by the next run)",
    "llm_empty_reply": "the model answered with nothing usable",
    "llm_reply_truncated": "the model's reply was cut at the token limit",
    "llm_input_copies_output": "the model-made input repeats the answer",
    "llm_output_copies_input": "the model-made answer repeats the input",
    "output_copies_input": "the answer is the input or a part of it",
    "output_not_chinese": "a Chinese task answered in Latin letters only (a subheading \"Slient Down\" for a Chinese paragraph)",
    "output_only_joins_input": "the answer only pastes the given sentences together: nothing is written",
    "genre_uncertain": "the router's genre leads the runner-up by less than the answers of the sub-category need (genres.toml answer_margin)",
    "not_the_news": "a lead, summary or one-sentence news that shares too little with the headline: background, not the news",
    "empty_field": "an instruction, input or answer is empty or reads None/null",
    "garbled_text": "a field holds mojibake or lost characters",
    "question_malformed": "the question is not a well-formed Chinese question",
    "stated_length_exceeded": "the answer is longer than the length the instruction states",
    "headline_clickbait": "the headline baits (美女, 竟然, 震惊, !!) rather than tells the news",
    "headline_is_label": "the headline files the text (关于…的通知, …政策解读, …服务指南) rather than tells its news",
    "first_person_answer": "a QA answer tells its author's own experience (我就专门拍了一期…): the post it was cut from, not advice",
    "institution_voice": "an opinion-writing answer or a headline speaks as the publishing institution (我馆, 本公司, 我宫): its own post, not an article to learn",
    "input_is_digest": "the input is a digest of several items (company A：… company B：…), not one report to headline",
    "subject_is_outlet": "the 5W subject is the outlet of the dateline, not who acted",
    "timeline_out_of_order": "the timeline's dates are not in order",
    "output_not_in_input": "an extraction answer that is not found in the article",
    "output_adds_facts": "a writing task whose answer states a fact (a name, figure, time, document or quote) its input does not give",
    "answer_is_question": "a lead, summary or one-sentence news that asks a question instead of telling the news",
    "output_mostly_given": "a writing task whose answer is mostly the fact sentences its input gives: little is left to write",
    "output_too_long": "the answer is longer than the sub-category allows",
    "output_too_short": "the answer is shorter than the sub-category needs",
    "input_too_short": "the input is shorter than the sub-category needs (a digest of a short text says nothing)",
    "input_too_long": "the input is longer than the sub-category allows",
    "question_not_addressed": "the answer does not share enough with the question",
    "markup_in_field": "HTML or Markdown markup left in a field",
    "site_furniture": "the text is site furniture (navigation, copyright lines) rather than article text",
    "output_malformed": "a line of the answer opens on punctuation (1. ：确认…): a label was cut off and its colon left",
    "list_incomplete": "a list answer misses items the article has",
    # selfinstruct
    "dropped_refusal": "the model refused instead of writing an item",
    "dropped_ungrounded": "the item shares too little with the source chunk (not grounded in the document)",
    "dropped_fewshot_leak": "the item copies a few-shot example from the prompt",
    "dropped_invalid_item": "the item does not match the item schema after repair",
    "dropped_reasked_item": "the item was still invalid after asking the model again",
    "dropped_reasked_reply": "the reply was still not valid JSON after asking the model again",
    "dropped_truncated_item": "the item was cut off at the token limit",
    # export
    "invalid_record": "the record fails the stage's JSON Schema",
    "blocklisted": "the id is on the [export] blocklist",
    "review_rejected": "a reviewer rejected the id in the [export] review_decisions file",
    "rejected_by_review": "a reviewer rejected the item, its article, its sub-category or its source (builder review apply)",
    "duplicate_id": "the same id (instruction, input and output) as an item already kept",
    "near_duplicate": "prompt and output near-duplicate a kept item (templates kept first)",
    "over_article_cap": "the article already has [export] max_items_per_article items",
    "cross_split_duplicate": "a validation item that near-duplicates a train item of another article",
    "over_mix_quota": "beyond the origin's share of the mix (weights)",
    "over_origin_cap": "beyond the origin's cap in the mix",
    # any stage
    "internal_error": "the stage's code raised on this input; the detail names the exception and where",
    "timeout": "the task ran past [build] task_timeout",
    "worker_died": "the worker process died on this input (out of memory, a crash in a C extension)",
}

PREFIXES: tuple[tuple[str, str], ...] = (
    ("missing_", "routing: the article has no '{rest}' that the sub-category needs, so no candidate was made"),
    ("dropped_", "dropped by the '{rest}' filter"),
    ("failed_", "the request failed ({rest}); the next run retries it"),
    ("fetch_failed_", "fetching failed ({rest})"),
)


def meaning(reason: str) -> str:
    """One sentence saying what ``reason`` means; never empty."""
    if reason in REASONS:
        return REASONS[reason]
    for prefix, text in PREFIXES:
        if reason.startswith(prefix):
            return text.format(rest=reason.removeprefix(prefix).replace("_", " "))
    return f"'{reason.replace('_', ' ')}' (no glossary entry yet: see the detail column of the examples)"


def is_routing(reason: str, routing: tuple[str, ...]) -> bool:
    """Whether ``reason`` records routing for a stage that declares ``routing`` (exact names or prefixes ending in '_')."""
    return any(reason == r or (r.endswith("_") and reason.startswith(r)) for r in routing)
