"""Text intelligence: reviews, social posts and news (Chinese and English) become dated signals.

Modules, one job each: :mod:`clean` (strip noise), :mod:`language` (zh / en / mixed),
:mod:`tokenize` (jieba + English words, stop words), :mod:`encoders` (pretrained sentence
encoders shipped in PyPI wheels), :mod:`sentiment` (encoder + our trained head),
:mod:`embeddings` (warehouse-cached vectors, similar products), :mod:`hotspots` (bursts, topics,
mentions) and :mod:`signals` (the daily signal tables and the demo step).
"""
