"""Running a stage with Hugging Face's Trainer: bf16 on GPU, fp32 on CPU, resumable checkpoints,
multi-GPU / multi-node through ``torchrun`` or ``accelerate launch`` (gloo on CPU)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import torch


def training_args(output_dir, **overrides):
    """``TrainingArguments`` with the authors' defaults (cosine schedule, seed 42) adapted to the machine."""
    from transformers import TrainingArguments
    on_gpu = torch.cuda.is_available()
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    args = dict(output_dir=str(output_dir), per_device_train_batch_size=32, learning_rate=2e-5,
                num_train_epochs=1, warmup_steps=0.03, lr_scheduler_type="cosine", weight_decay=0.0,
                logging_steps=10, save_steps=500, save_total_limit=2, seed=42, data_seed=42,
                remove_unused_columns=False, report_to=[], dataloader_drop_last=True, bf16=on_gpu,
                use_cpu=not on_gpu, ddp_backend="gloo" if distributed and not on_gpu else None, disable_tqdm=False)
    args.update(overrides)
    return TrainingArguments(**args)


def latest_checkpoint(output_dir) -> Optional[str]:
    """The Trainer's newest ``checkpoint-N`` folder in ``output_dir`` (none when the folder is absent)."""
    from transformers.trainer_utils import get_last_checkpoint
    return get_last_checkpoint(str(output_dir)) if Path(output_dir).is_dir() else None


def trained_state(module) -> dict:
    """The tensors a checkpoint needs: parameters being trained, and buffers. Frozen parameters come
    back with the model that resumes, so milco-mini's checkpoints hold ~15 MB of weights, not ~520 MB."""
    frozen = _frozen(module)
    return {k: v for k, v in module.state_dict().items() if k not in frozen}


def _frozen(module) -> set[str]:
    return {n for n, p in module.named_parameters() if not p.requires_grad}


def _trainer_class():
    from transformers import Trainer

    class TrainedOnlyTrainer(Trainer):
        """A ``Trainer`` whose checkpoints hold :func:`trained_state` (it resumes non-strictly, so
        the frozen tensors it leaves out are expected missing, not warned about)."""

        def _save(self, output_dir=None, state_dict=None):
            super()._save(output_dir, state_dict=trained_state(self.model) if state_dict is None else state_dict)

        def _issue_warnings_after_load(self, load_result):
            frozen = _frozen(self.model)
            missing = [k for k in load_result.missing_keys if k not in frozen]
            super()._issue_warnings_after_load(type(load_result)(missing, load_result.unexpected_keys))
    return TrainedOnlyTrainer


def train(objective, examples, collator, output_dir, resume: bool = True, callbacks=None,
          lr_by_prefix: Optional[dict[str, float]] = None, **overrides):
    """Train ``objective`` on ``examples`` (a list); resumes from the newest checkpoint in
    ``output_dir`` (checkpoints hold the trained tensors only: resume with the same frozen base);
    returns the trainer's final ``TrainOutput`` (loss history in ``log_history``).

    ``lr_by_prefix``: learning rates for parameters whose name starts with a prefix (e.g. a lower
    one for ``model.m_model.``); the others use ``learning_rate``.
    """
    try:
        import accelerate  # noqa: F401  (the Trainer needs it)
    except ImportError as e:
        raise ImportError("training needs accelerate: pip install 'milco-pt[train]'") from e
    args = training_args(output_dir, **overrides)
    optimizers = (None, None)
    if lr_by_prefix:
        groups: dict[float, list] = {}
        for name, p in objective.named_parameters():
            if p.requires_grad:
                lr = next((v for k, v in lr_by_prefix.items() if name.startswith(k)), args.learning_rate)
                groups.setdefault(lr, []).append(p)
        optimizers = (torch.optim.AdamW([{"params": ps, "lr": lr} for lr, ps in groups.items()],
                                        lr=args.learning_rate, weight_decay=args.weight_decay), None)
    if len(examples) < args.per_device_train_batch_size * max(1, args.world_size):
        raise ValueError(f"{len(examples)} examples are fewer than one batch "
                         f"({args.per_device_train_batch_size} x {args.world_size} processes)")
    trainer = _trainer_class()(model=objective, args=args, train_dataset=examples, data_collator=collator,
                      callbacks=callbacks, optimizers=optimizers)
    ckpt = latest_checkpoint(output_dir) if resume else None
    result = trainer.train(resume_from_checkpoint=ckpt)
    trainer.log_history = trainer.state.log_history
    objective.trainer = trainer
    return result


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0
