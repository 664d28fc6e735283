"""Chapter 3 helpers: tokens, text embeddings, recorded cross-attention, CLIP ranking, prompt rewriting."""

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils import conditioning as C
from course_utils.errors import CourseInputError
from course_utils.minisd import data as D


@pytest.fixture(scope="module")
def tiny():
    from conftest import build_tiny_pipeline

    return build_tiny_pipeline()


# --- rewriting (pure rules) ------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("orange kitty, retro game", "a ginger cat in 16-bit pixel art style on a blue background"),
    ("a snowy kitten in anime style against a violet sky", "a white cat in manga style on a purple background"),
    ("black cat on a red backdrop, photo", "a black cat in photo style on a red background"),
    ("a red cat", "a ginger cat in cartoon style on a blue background"),
    ("photo of a chocolate cat, lime backdrop", "a brown cat in photo style on a green background"),
    ("a black cat on a white background", "a black cat in cartoon style on a blue background"),  # no white backdrop
    ("striped cat, black and white", "a tabby ginger cat in manga style on a blue background"),
    ("", "a ginger cat in cartoon style on a blue background"),
])
def test_rewrite_prompt_maps_synonyms_and_fills_defaults(text, expected):
    assert C.rewrite_prompt(text) == expected


def test_parse_prompt_says_what_came_from_the_text_and_what_is_a_default():
    p = C.parse_prompt("a gray kitty on a lime backdrop")
    assert p["fur"] == {"value": "grey", "from": "gray"}
    assert p["background"] == {"value": "green", "from": "lime"}
    assert p["style"]["from"] is None and p["style"]["value"] == C.DEFAULTS["style"]
    assert C.rewrite_prompt("a cat", defaults={"style": "manga"}).endswith("manga style on a blue background")
    for section in (C.FUR_SYNONYMS, C.BG_SYNONYMS):  # every target word is one the model knows
        assert set(section) <= set(D.FUR_COLOURS) | set(D.BACKGROUNDS)
    assert set(C.STYLE_SYNONYMS) == set(D.STYLES)


def test_rewrite_prompt_rejects_non_text():
    with pytest.raises(CourseInputError, match="must be text"):
        C.rewrite_prompt(42)


# --- tokens ------------------------------------------------------------------------------------------
def test_token_table_marks_start_text_end_and_padding(tiny):
    tok = tiny.tokenizer  # max length 16, one letter per token
    rows = C.token_table(tok, "a cat")
    assert len(rows) == tok.model_max_length
    assert [r["kind"] for r in rows[:6]] == ["start", "text", "text", "text", "text", "end"]
    assert {r["kind"] for r in rows[6:]} == {"padding"}
    long = C.token_table(tok, "a very long prompt about cats")
    assert len(long) == tok.model_max_length and long[-1]["kind"] == "end"  # truncated, end token kept


def test_word_positions_follow_the_tokenizer(tiny):
    tok = tiny.tokenizer
    prompt = "a cat, blue"
    assert C.word_positions(tok, prompt, "cat") == [2, 3, 4]  # c a t after "a"
    assert C.word_positions(tok, prompt, "blue") == [6, 7, 8, 9]  # the comma's piece is skipped
    with pytest.raises(CourseInputError, match="not a word of the prompt"):
        C.word_positions(tok, prompt, "dog")


def test_encode_prompts_returns_a_sequence_per_prompt(tiny):
    emb = C.encode_prompts(tiny, ["a cat", ""])
    assert emb.shape == (2, tiny.tokenizer.model_max_length, tiny.text_encoder.config.hidden_size)


# --- cross-attention --------------------------------------------------------------------------------
def _unet_call(pipe, emb):
    x = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    return pipe.unet(torch.cat([x, x]), 500, encoder_hidden_states=emb).sample


@torch.no_grad()
def test_recorder_changes_nothing_and_restores_the_processors(tiny):
    emb = C.encode_prompts(tiny, ["", "a cat"])
    before = dict(tiny.unet.attn_processors)
    plain = _unet_call(tiny, emb)
    with C.record_cross_attention(tiny.unet) as rec:
        recorded = _unet_call(tiny, emb)
    assert torch.allclose(plain, recorded, atol=1e-5)
    after = tiny.unet.attn_processors
    assert all(after[k] is before[k] for k in before)
    assert rec.calls == 1 and rec.layers() and all(".attn2" in k for k in rec.layers())
    a = rec.maps[rec.layers()[0]][0]  # (batch, heads, h, w, tokens)
    assert a.shape[0] == 2 and a.shape[-1] == tiny.tokenizer.model_max_length
    assert torch.allclose(a.sum(-1), torch.ones(a.shape[:-1]), atol=1e-5)  # softmax over tokens
    maps = C.token_heatmaps(rec, {"a": [1], "cat": [3, 4, 5]}, size=16)
    assert maps.shape == (2, 16, 16) and float(maps.min()) >= 0 and float(maps.max()) <= 1


def test_recorder_restores_the_processors_after_an_error(tiny):
    before = dict(tiny.unet.attn_processors)
    with pytest.raises(RuntimeError), C.record_cross_attention(tiny.unet):
        raise RuntimeError("boom")
    assert all(tiny.unet.attn_processors[k] is before[k] for k in before)


def test_overlay_and_subject_mask():
    img, _, specs = D.sample(1, seed=3, fur="black", background="blue")
    mask = C.subject_mask(img[0])
    assert mask.shape == (64, 64) and 0.05 < mask.mean() < 0.7  # a cat, not the whole picture
    assert not mask[:3].any()  # the top rows are background
    out = C.overlay(img[0], torch.rand(8, 8, generator=torch.Generator().manual_seed(0)), size=128)
    assert out.size == (128, 128) and out.mode == "RGB"
    with pytest.raises(CourseInputError, match="2-D"):
        C.overlay(img[0], np.zeros((2, 2, 2)))


# --- ranking ----------------------------------------------------------------------------------------
class _FakeJudge:
    def score(self, images, prompts):
        return torch.tensor([float(np.asarray(i).mean()) for i in images])


def test_rank_by_clip_puts_the_best_first():
    imgs = [Image.new("RGB", (4, 4), (v, v, v)) for v in (10, 200, 90)]
    ranked = C.rank_by_clip(imgs, "a cat", judge=_FakeJudge())
    assert [i for i, _ in ranked] == [1, 2, 0]
    with pytest.raises(CourseInputError):
        C.rank_by_clip([], "a cat", judge=_FakeJudge())


# --- one seed, several prompts ------------------------------------------------------------------------
def test_draw_prompts_matches_one_call_per_prompt(tiny):
    import course_utils as cu

    prompts = ["a cat", "a dog"]
    batch = C.draw_prompts(prompts, seed=5, pipe=tiny, steps=2)
    assert len(batch) == 2
    for p, img in zip(prompts, batch):
        single = cu.text_to_image(p, pipe=tiny, seed=5, steps=2).image
        assert np.abs(np.asarray(img, dtype=int) - np.asarray(single, dtype=int)).max() <= 2
    with pytest.raises(CourseInputError, match="list of 1 to"):
        C.draw_prompts("a cat", pipe=tiny)
    with pytest.raises(CourseInputError, match="steps"):
        C.draw_prompts(["a cat"], pipe=tiny, steps=0)


# --- the practical path's one-call views ---------------------------------------------------------------
def test_best_of_verdict_follows_the_numbers():
    seeds, asked = [0, 1, 2], {"fur": "black", "background": "yellow"}
    order = [2, 0, 1]  # best score first
    scores = [60.2, 40.0, 71.0]
    assert "nothing real to choose" in C.best_of_verdict(seeds, scores, order, asked, [2, 2, 2])
    assert "No try shows all 2" in C.best_of_verdict(seeds, scores, order, asked, [1, 0, 1])
    assert "agree" in C.best_of_verdict(seeds, scores, order, asked, [1, 0, 2])
    verdict = C.best_of_verdict(seeds, scores, order, asked, [2, 0, 1])
    assert "disagree" in verdict and "seed 2 misses something yet scores 71" in verdict
    assert "read only the course's own model" in C.best_of_verdict(seeds, scores, order, asked, None)


def test_check_understood_answers_in_words():
    good = C.check_understood("a black cat on a yellow background", fur="black", background="yellow")
    assert good.count("✓") == 2 and good.endswith("well done.")
    typo = C.check_understood("a black cat", fur="blak")
    assert "? fur: 'blak' is not one of the model's words" in typo
    default = C.check_understood("a cat", fur="ginger")
    assert ("✗ fur" in default or "✓ fur" in default) and "as a default" in default


def test_best_of_and_the_prompt_explorer_on_a_tiny_pipeline(tiny, tmp_path):
    judge = C.load_judge()
    b = C.best_of("a black cat on a yellow background", n=3, pipe=tiny, judge=judge)
    assert sorted(b.order) == [0, 1, 2] and b.shown is None  # pixel rules only for the embedded model
    assert b.scores[b.order[0]] >= b.scores[b.order[-1]] and "favourite is seed" in b.verdict
    with pytest.raises(CourseInputError, match="from 2 to"):
        C.best_of("a cat", n=1, pipe=tiny, judge=judge)
    view = C.prompt_explorer(tiny, judge, "a ginger cat", save_dir=tmp_path)
    first = view.explorer.image.value
    view.prompt_box.value = "a black cat in manga style on a yellow background"
    assert view.explorer.image.value != first and view.explorer.last_error is None
    assert "CLIP score" in view.explorer.message.value
    view.prompt_box.value = "a ginger cat"
    assert view.explorer.history[-1][1] is True  # a prompt seen before comes from the cache
    saved = view.save.click()
    assert saved is not None and saved.suffix == ".png" and saved.parent == tmp_path
