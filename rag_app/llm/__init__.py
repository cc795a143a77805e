"""The language-model room: everything that talks to a chat model.

    generate.py     providers (OpenAI and compatible servers, Gemini, local Hugging Face) behind
                    one `LLMGenerator`: prompt, stream, citation check
    hf_chat.py      the local Hugging Face chat model (a LangChain `BaseChatModel`)
    agent.py        agent mode: the model calls search tools (LangChain `create_agent`)
    conversation.py chat history and follow-up rewriting (`RagApp.chat()`)
    llm_rerank.py   a chat model as reranker

These modules import the core (rag_app.answer, grounding, support, errors) and never rag_app.app;
the core imports them only inside the functions that pick a provider at run time, so
`from rag_app import RagApp` loads none of them. Nothing is imported here: `import rag_app.llm.x`
loads x alone.
"""
