"""Text intelligence: reviews, social posts and news become dated signals (Chinese and English
with models of their own, other languages through the multilingual encoder).

Modules, one job each: :mod:`clean` (strip noise), :mod:`language` (zh / en / mixed / other
codes), :mod:`tokenize` (jieba, English and Unicode words, stop words), :mod:`encoders`
(pretrained sentence encoders shipped in PyPI wheels), :mod:`sentiment` (n-gram, CNN and encoder
models) with :mod:`multilingual` (the head for other languages), :mod:`aspects` (what a review
praises or blames), :mod:`competitors`, :mod:`embeddings` (warehouse-cached vectors, similar
products), :mod:`hotspots` (bursts, topics, mentions) and :mod:`signals` (the daily signal
tables and the demo step); :mod:`train` holds the recipes the shipped weights came from.
"""
