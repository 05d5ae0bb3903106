"""The LLM engine: structured output through an OpenAI-compatible endpoint,
verified by the checker and grounded in the page text.

    config     where and how to call (OPENAI_BASE_URL, OPENAI_API_KEY, --model)
    prompting  prompts from prompts/, document content delimited, page images
    response   the response models (contract field names) and their conversion
    transport  tenacity retries for 429/5xx/timeouts, concurrency, token budget
    cache      on-disk answers keyed by model, prompt version and input hash
    engine     one form in, a checked candidate out; repair pass; rules vs LLM
"""
