"""The skills lessons exercise: a small vocabulary with prerequisites, and which skills an answer touched."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Skill:
    id: str
    title: str
    what: str
    needs: tuple[str, ...] = ()  # prerequisites: skills a correct answer also exercises underneath


_VOCABULARY = (
    Skill("graph-forward", "Forward pass through a graph",
          "evaluate a computational graph node by node from its inputs"),
    Skill("local-derivatives", "Local derivatives",
          "the derivative of one operation on its own: sums, products, powers, sin, exp"),
    Skill("chain-rule", "The chain rule",
          "multiply local derivatives along every path from the output back to a variable",
          ("local-derivatives", "graph-forward")),
    Skill("sgd-update", "SGD update", "one gradient-descent step: w − α·∇L", ("chain-rule",)),
    Skill("optimizer-momentum", "SGD with momentum", "a velocity that accumulates past gradients",
          ("sgd-update",)),
    Skill("optimizer-adam", "Adam", "moment estimates, bias correction, a step that ignores scale",
          ("sgd-update",)),
    Skill("weight-decay", "Weight decay", "an L2 penalty: its gradient λw added to the update",
          ("sgd-update",)),
    Skill("mse-loss", "Squared-error loss", "the mean (or sum) of squared differences"),
    Skill("activations", "Activations", "ReLU and sigmoid: their values and their derivatives",
          ("local-derivatives",)),
    Skill("matmul-shapes", "Matrix product shapes", "(m×n)·(n×p) is m×p; which dimensions must agree"),
    Skill("matmul", "Matrix and vector products", "rows times columns, entry by entry",
          ("matmul-shapes",)),
    Skill("jacobian-shapes", "Jacobian shapes",
          "numerator layout: one row per output entry, one column per input entry",
          ("matmul-shapes",)),
    Skill("jacobian-entries", "Jacobian entries", "each entry ∂fᵢ/∂xⱼ of a layer's Jacobian",
          ("jacobian-shapes", "local-derivatives")),
    Skill("mlp-backprop", "Backprop through a layer",
          "gradients of a linear layer with an activation, by the chain rule",
          ("matmul", "activations", "chain-rule")),
    Skill("conv-output-size", "Conv and pool output size",
          "⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1 along each dimension"),
    Skill("cross-correlation", "Cross-correlation",
          "what a conv layer computes: the kernel slid unflipped, with stride, padding, dilation",
          ("conv-output-size",)),
    Skill("pooling", "Max and average pooling", "the largest (or mean) value in each window",
          ("conv-output-size",)),
    Skill("pooling-routing", "Gradient routing through max pooling",
          "the gradient flows only to the entry that was the maximum", ("pooling", "chain-rule")),
    Skill("conv-backprop", "Gradients through a convolution",
          "the weight gradient as a cross-correlation of input and upstream gradient",
          ("cross-correlation", "chain-rule")),
    Skill("transposed-conv", "Transposed convolution",
          "each input entry stamps the kernel into the output, with stride and padding",
          ("cross-correlation",)),
    Skill("batch-norm", "Batch normalization", "subtract the batch mean, divide by its standard deviation"),
    Skill("softmax", "Softmax", "exponentiate and normalise: probabilities that sum to 1"),
    Skill("cross-entropy", "Cross-entropy loss", "−log of the probability of the true class",
          ("softmax",)),
    Skill("softmax-ce-gradient", "Softmax cross-entropy gradient",
          "the gradient with respect to the logits is p − y", ("cross-entropy", "chain-rule")),
    Skill("hinge-loss", "Multiclass SVM (hinge) loss", "max(0, sⱼ − s_y + Δ) summed over wrong classes"),
    Skill("attention-scores", "Attention scores", "scaled dot products q·k/√d and their softmax",
          ("matmul", "softmax")),
    Skill("parameter-count", "Counting parameters", "weights and biases of a layer",
          ("matmul-shapes",)),
    Skill("memory-bytes", "Bytes in memory", "numbers × bytes per number (4 for float32)",
          ("parameter-count",)),
    Skill("flops", "Counting FLOPs", "multiplies and adds of a layer, by the lesson's convention",
          ("matmul-shapes",)),
)
SKILLS: dict[str, Skill] = {skill.id: skill for skill in _VOCABULARY}

# A lesson that names no skills exercises its topic's; a teacher's own topic is its own skill.
TOPIC_SKILLS: dict[str, tuple[str, ...]] = {
    "autograd": ("chain-rule",), "backprop": ("chain-rule",), "mlp": ("mlp-backprop",),
    "convolution": ("cross-correlation",), "cnn-layers": ("cross-correlation",),
    "jacobians": ("jacobian-shapes",), "layer-costs": ("parameter-count",),
    "classifiers": ("softmax",), "optimizers": ("sgd-update",), "real-networks": ("flops",),
    "modern-layers": ("graph-forward",),
}

# A named mistake belongs to the skills it shows missing (matched by its label's words).
MISTAKE_SKILLS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("derivative)", ("activations", "chain-rule")),
    ("1/N", ("mse-loss",)),
    ("bias", ("parameter-count",)),
    ("batch dimension", ("matmul-shapes",)),
    ("output size", ("conv-output-size",)),
    ("padding on one side", ("conv-output-size",)),
    ("lost the max", ("pooling-routing",)),
    ("overlapping windows", ("pooling-routing",)),
    ("kernel not flipped", ("conv-backprop",)),
    ("kernel gradient", ("conv-backprop",)),
    ("softmax over the wrong axis", ("softmax",)),
    ("homogeneous", ("matmul-shapes",)),
    ("SGD step", ("sgd-update",)),
    ("the diagonal only", ("jacobian-entries",)),
    ("update with the wrong sign", ("sgd-update",)),
    ("update without the learning rate", ("sgd-update",)),
    ("true convolution", ("cross-correlation",)),
    ("padding ignored", ("conv-output-size", "cross-correlation")),
    ("stride ignored", ("conv-output-size", "cross-correlation")),
    ("dilation", ("conv-output-size", "cross-correlation")),
    ("pooling", ("pooling", "conv-output-size")),
    ("MSE", ("mse-loss",)),
    ("½", ("mse-loss",)),
    ("sum instead of mean", ("mse-loss", "cross-entropy")),
    ("mean instead of sum", ("mse-loss", "cross-entropy")),
    ("multiply-accumulates", ("flops",)),
    ("FLOP", ("flops",)),
    ("bytes", ("memory-bytes",)),
    ("float64 instead of float32", ("memory-bytes",)),
    ("softmax probabilities instead of p − y", ("softmax-ce-gradient",)),
    ("logits instead of probabilities", ("softmax",)),
    ("Jacobian in the other layout", ("jacobian-shapes", "jacobian-entries")),
    ("transposed", ("matmul-shapes", "jacobian-shapes", "matmul")),
    ("sign flipped", ("chain-rule",)),
    (" instead of ∂", ("chain-rule",)),
)


def title(skill_id: str) -> str:
    skill = SKILLS.get(skill_id)
    return skill.title if skill else skill_id


def skills_for(lesson, step) -> tuple[str, ...]:
    """The skills a step exercises: its own, else its lesson's, else its topic's."""
    own = getattr(step, "skills", ()) or getattr(lesson, "skills", ())
    return tuple(own) or TOPIC_SKILLS.get(lesson.topic, (lesson.topic,))


def missed_skills(step_skills: tuple[str, ...], mistake: str | None) -> tuple[str, ...]:
    """The skills a wrong answer counts against: the named mistake's, when the step has them."""
    if mistake:
        for words, owners in MISTAKE_SKILLS:
            if words in mistake:
                hit = tuple(s for s in step_skills if s in owners)
                if hit:
                    return hit
    return step_skills


def prerequisites(skill_ids) -> tuple[str, ...]:
    """Every skill underneath these (prerequisites of prerequisites too), nearest first."""
    seen: list[str] = []
    frontier = list(skill_ids)
    while frontier:
        needs = [n for s in frontier for n in (SKILLS[s].needs if s in SKILLS else ())]
        frontier = [n for n in dict.fromkeys(needs) if n not in seen and n not in skill_ids]
        seen += frontier
    return tuple(seen)
