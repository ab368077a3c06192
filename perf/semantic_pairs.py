"""A small labelled set for the semantic result cache: each case is a first call's free text and a later
call's, and whether the later one asks the same thing (a paraphrase: the earlier result answers it) or not
(a different meaning, often the same template with another entity: it must miss). Hand-written for this
benchmark; the argument is named `query` as a search-like tool's would be."""

from __future__ import annotations

PARAPHRASES: list[tuple[str, str]] = [
    ("weather forecast for Paris tomorrow", "tomorrow's weather forecast in Paris"),
    ("what is the weather in Berlin today", "today's weather in Berlin"),
    ("how do I reset my password", "how can I reset my password"),
    ("cheap flights from London to New York", "inexpensive flights from London to New York"),
    ("population of Tokyo", "how many people live in Tokyo"),
    ("convert 100 US dollars to euros", "100 USD in EUR"),
    ("best Italian restaurants near Times Square", "top Italian restaurants close to Times Square"),
    ("symptoms of the flu", "what are the symptoms of influenza"),
    ("how to install numpy with pip", "install numpy using pip"),
    ("latest news about electric cars", "recent news on electric vehicles"),
    ("opening hours of the Louvre museum", "when is the Louvre museum open"),
    ("distance between Madrid and Barcelona", "how far is Madrid from Barcelona"),
    ("recipe for chocolate chip cookies", "how to make chocolate chip cookies"),
    ("python list comprehension examples", "examples of list comprehensions in python"),
    ("stock price of Apple", "Apple share price"),
    ("translate good morning into Spanish", "how do you say good morning in Spanish"),
    ("time zone of Sydney", "what time zone is Sydney in"),
    ("how to tie a tie", "steps to tie a necktie"),
    ("list open pull requests in the mcprt repository", "open pull requests of the mcprt repository"),
    ("find files modified in the last 24 hours", "files changed in the past day"),
]

DIFFERENT: list[tuple[str, str]] = [
    ("weather forecast for Paris tomorrow", "weather forecast for Rome tomorrow"),
    ("what is the weather in Berlin today", "what is the weather in Berlin next week"),
    ("how do I reset my password", "how do I change my username"),
    ("cheap flights from London to New York", "cheap flights from New York to Chicago"),
    ("population of Tokyo", "population of Osaka"),
    ("convert 100 US dollars to euros", "convert 100 euros to yen"),
    ("best Italian restaurants near Times Square", "best Mexican restaurants near Times Square"),
    ("symptoms of the flu", "symptoms of a heart attack"),
    ("how to install numpy with pip", "how to uninstall numpy with pip"),
    ("latest news about electric cars", "latest news about the stock market"),
    ("opening hours of the Louvre museum", "ticket prices of the Louvre museum"),
    ("distance between Madrid and Barcelona", "train from Madrid to Barcelona"),
    ("recipe for chocolate chip cookies", "recipe for banana bread"),
    ("python list comprehension examples", "javascript array map examples"),
    ("stock price of Apple", "stock price of Microsoft"),
    ("translate good morning into Spanish", "translate good morning into German"),
    ("time zone of Sydney", "time zone of Los Angeles"),
    ("how to tie a tie", "how to tie shoelaces"),
    ("list open pull requests in the mcprt repository", "list closed issues in the mcprt repository"),
    ("find files modified in the last 24 hours", "find files larger than 1 GB"),
]
