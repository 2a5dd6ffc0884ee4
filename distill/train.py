# Copyright 2026 The multitask_seg Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""
Train a multi-task network on an uneven mix of ground truth and pseudo-labels.

    multitask_seg_train --config distill/configs/NAME.yaml [--resume]
    torchrun --nproc-per-node 2 -m distill.train --config ...

Ctrl-C or SIGTERM stops it after the iteration under way, with last.pt saved there (exit
status 130 / 143); --resume then continues without redoing an iteration. A second signal
stops it at once, from the last save.

Reads top to bottom: set-up, data, one epoch, evaluation, saving, main.
"""

import argparse
from dataclasses import asdict
from functools import partial
import os
from pathlib import Path
import sys
import time

from multitask_seg.checkpoint import load_checkpoint, ModelInfo, save_checkpoint
from multitask_seg.config_io import load_config
from multitask_seg.evaluation.scoring import Scorer
from multitask_seg.inference import Predictor
from multitask_seg.model import build_model, MultiTaskNet
from multitask_seg.stopping import GracefulStop, ignore_in_workers, Stopped
from multitask_seg.tasks import TASKS
import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from .logbook import Logbook
from .losses import multitask_loss
from .mixing import collate, MixedDataset, WeightedEpochSampler
from .train_config import TrainConfig
from .training_views import open_dataset, TrainingView


def setup_distributed(config: TrainConfig) -> tuple[int, int, torch.device]:
    """Join the process group torchrun describes, if any; return (rank, world, device)."""
    cuda = config.device == 'cuda' or (config.device == 'auto' and torch.cuda.is_available())
    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group('nccl' if cuda else 'gloo')
    if cuda:
        local = int(os.environ.get('LOCAL_RANK', '0'))
        torch.cuda.set_device(local)
        return rank, world, torch.device('cuda', local)
    return rank, world, torch.device('cpu')


def seed_everything(config: TrainConfig) -> None:
    """Seed torch; augmentation draws its own seeds from (seed, epoch, position)."""
    torch.manual_seed(config.seed)
    if config.deterministic:
        os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False


def build_optimizer(model: MultiTaskNet, config: TrainConfig, steps: int):
    """SGD with the encoder at encoder_lr and decoder + heads at decoder_lr; a poly schedule."""
    o = config.optimizer
    encoder = list(model.encoder.parameters())
    ids = {id(p) for p in encoder}
    rest = [p for p in model.parameters() if id(p) not in ids]
    optimizer = torch.optim.SGD(
        [{'params': encoder, 'lr': o.encoder_lr}, {'params': rest, 'lr': o.decoder_lr}],
        momentum=o.momentum, weight_decay=o.weight_decay)
    if o.schedule == 'poly':
        factor = partial(_poly, steps=max(steps, 1))
    else:
        factor = _constant
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _poly(step: int, steps: int) -> float:
    return max(1.0 - step / steps, 0.0) ** 0.9


def _constant(step: int) -> float:
    return 1.0


def build_loader(view: TrainingView, sampler: WeightedEpochSampler, config: TrainConfig,
                 info: ModelInfo, device: torch.device) -> DataLoader:
    """Batches of augmented samples in the sampler's (resumable) order, laid out for device."""
    return DataLoader(view, batch_size=config.batch_size, sampler=view.keyed(sampler),
                      num_workers=config.num_workers, drop_last=True,
                      worker_init_fn=ignore_in_workers if config.num_workers else None,
                      collate_fn=partial(collate, mean=info.mean, std=info.std,
                                         memory_format=training_layout(device)))


def training_layout(device: torch.device) -> torch.memory_format:
    """Return the layout the network trains in: NHWC is several times faster on CPUs."""
    return torch.channels_last if device.type == 'cpu' else torch.contiguous_format


def train_one_epoch(model, loader, optimizer, scheduler, config: TrainConfig, device,
                    progress: dict, on_step) -> dict[str, float]:
    """
    Run the rest of one epoch; return the mean of each loss over its iterations.

    ``on_step(progress)`` is called after every iteration, with progress['step'] counting
    the iterations done in this epoch (used to save resumable checkpoints).
    """
    model.train()
    sums: dict[str, float] = {}
    count = 0
    autocast = torch.autocast('cuda', dtype=torch.bfloat16,
                              enabled=config.amp and device.type == 'cuda')
    bar = tqdm(loader, desc=f'epoch {progress["epoch"] + 1}/{config.epochs}',
               disable=progress['rank'] != 0, initial=progress['step'],
               total=progress['step'] + len(loader), dynamic_ncols=True)
    for batch in bar:
        # Already in the network's layout (see build_loader).
        image = batch['image'].to(device, non_blocking=True)
        targets = {k: v.to(device, non_blocking=True) for k, v in batch['targets'].items()}
        with autocast:
            outputs = model(image)
        loss, parts = multitask_loss(outputs, targets, config.loss_weights)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        progress['step'] += 1
        progress['global_step'] += 1
        count += 1
        values = {'loss': float(loss.detach()), **parts}
        for key, value in values.items():
            sums[key] = sums.get(key, 0.0) + value
        bar.set_postfix(loss=f'{values["loss"]:.3f}')
        on_step(progress, values)
    return {k: v / count for k, v in sums.items()} if count else {}


def evaluate(model: MultiTaskNet, datasets: dict, specs, info: ModelInfo,
             device: torch.device) -> dict[str, float]:
    """
    Score every validation dataset as multitask_seg_eval would score the node's outputs.

    Each image goes through the inference core (``Predictor.from_network``: the node's
    input size, pre- and post-processing, one image per forward pass as the node runs
    one camera), depth through the node's validity rule, and the evaluator's ``Scorer``
    (ground-truth ids shifted by ``class_offset`` into the model's classes).

    :param model: the network, used in place (eval mode, ``device``, its training layout).
    :return: {'<dataset>/miou', '<dataset>/pixel_accuracy', '<dataset>/iou/<class>' (NaN where
        the class is in neither truth nor prediction), '<dataset>/rmse', '<dataset>/rmse_log',
        '<dataset>/abs_rel', '<dataset>/delta1', '<dataset>/depth_coverage' (share of valid
        ground-truth pixels the model gives a trusted depth for)}; figures of a task the
        dataset has no ground truth for are absent; with normals, '<dataset>/normals_mean_deg',
        '<dataset>/normals_rmse_deg' and '<dataset>/normals_within_<deg>'.
    :raises ValueError: a prediction does not fit its ground truth; names the dataset.
    """
    predictor = Predictor.from_network(
        model, info, device=str(device),
        channels_last=training_layout(device) == torch.channels_last)
    results = {}
    for spec in specs:
        dataset = datasets[spec.name]
        scorer = Scorer(info, len(dataset), depth_cap=spec.depth_cap, samples=0,
                        label_offset=spec.class_offset)
        for i in range(len(dataset)):
            sample = dataset[i]
            # What the node publishes: each task's published rule (depth's validity).
            prediction = {task: TASKS[task].published(value, info) if task in TASKS else value
                          for task, value in predictor.predict_one(sample['image']).items()}
            scorer.add(i, sample['image'], sample['targets'], prediction)
        if scorer.errors:
            raise ValueError(f'validation set {spec.name}: {scorer.errors[0]}')
        results.update(_figures(spec, list(getattr(dataset, 'classes', [])), info,
                                scorer.result()))
    return results


def _figures(spec, classes: list[str], info: ModelInfo, scored: dict) -> dict[str, float]:
    out = {}
    if 'segmentation' in scored:
        seg = scored['segmentation']
        out[f'{spec.name}/miou'] = seg['miou']
        out[f'{spec.name}/pixel_accuracy'] = seg['pixel_accuracy']
        # The dataset's classes sit at class_offset in the model's class list.
        for name, model_class in zip(classes, info.classes[spec.class_offset:]):
            iou = seg['iou'][model_class]
            out[f'{spec.name}/iou/{name}'] = float('nan') if iou is None else iou
    if 'depth' in scored and scored['depth']['pixels']:
        for key in ('rmse', 'rmse_log', 'abs_rel', 'delta1'):
            out[f'{spec.name}/{key}'] = scored['depth'][key]
        out[f'{spec.name}/depth_coverage'] = scored['depth']['coverage']
    if 'normals' in scored and scored['normals']['pixels']:
        for key, value in scored['normals'].items():
            if key not in ('pixels', 'coverage'):
                out[f'{spec.name}/normals_{key}'] = value
    return out


def score(metrics: dict[str, float]) -> float:
    """One number to pick the best checkpoint: mean mIoU, else minus mean RMSE."""
    mious = [v for k, v in metrics.items() if k.endswith('/miou')]
    if mious:
        return float(np.mean(mious))
    rmses = [v for k, v in metrics.items() if k.endswith('/rmse')]
    return -float(np.mean(rmses)) if rmses else float('-inf')


def model_info(config: TrainConfig, datasets: dict) -> ModelInfo:
    """Describe the trained model for inference: classes, sizes, provenance."""
    classes = config.classes
    colors = config.colors
    if not classes and 'segmentation' in config.model.tasks:
        first = datasets[config.datasets[0].name]
        classes, colors = list(first.classes), [list(c) for c in first.colors]
    return ModelInfo(
        classes=list(classes), colors=[list(c) for c in colors],
        input_size=config.inference_size, depth_range=list(config.depth_range),
        provenance={'train_config': asdict(config),
                    'teachers': {s.name: {t: str(f) for t, f in s.pseudo_labels.items()}
                                 for s in config.datasets if s.pseudo_labels}})


def stop_requested(stop: GracefulStop, world: int, device: torch.device) -> int | None:
    """Return the stop signal any process got (all processes agree on it), else None."""
    if world == 1:
        return stop.signum
    flag = torch.tensor([stop.signum or 0], device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return int(flag.item()) or None


def main(argv: list[str] | None = None) -> int:
    """Train as the config says; with --resume, continue exactly from last.pt."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--config', required=True, help='training config YAML')
    parser.add_argument('--resume', action='store_true',
                        help='continue from <output>/last.pt (model, optimiser, schedule, '
                             'epoch, data order)')
    args = parser.parse_args(argv)
    saved = {}
    with GracefulStop() as stop:
        try:
            return train(args, stop, saved)
        except Stopped as stopped:
            if 'stop' in saved:
                where = f'saved {saved["path"]} {saved["at"]}'
            elif 'path' in saved:
                where = f'{saved["path"]} holds {saved["at"]} (its last save)'
            else:
                where = 'nothing saved yet'
            print(f'multitask_seg_train: {stopped}; {where}: continue with the same command '
                  f'and --resume', file=sys.stderr)
            return stopped.status


def train(args: argparse.Namespace, stop: GracefulStop, saved: dict) -> int:
    """
    Run the training ``args`` describe; on a stop signal save last.pt and raise Stopped.

    The first SIGINT/SIGTERM is acted on after the iteration under way (or the epoch's
    validation), so --resume continues without redoing any iteration; ``saved`` records
    the last save, for the message.
    """
    config = load_config(TrainConfig, args.config)
    rank, world, device = setup_distributed(config)
    seed_everything(config)
    output = Path(config.output)

    datasets = {s.name: open_dataset(s, config.model.tasks, train=True)
                for s in config.datasets}
    val_sets = {s.name: open_dataset(s, config.model.tasks, train=False) for s in config.val}
    info = model_info(config, datasets)
    mixed = MixedDataset(datasets)
    sampler = WeightedEpochSampler([len(d) for d in datasets.values()],
                                   [s.weight for s in config.datasets], config.seed,
                                   config.epoch_size, rank, world)
    view = TrainingView(mixed, config.datasets, config.augment, config.seed, rank)
    steps_per_epoch = len(sampler) // config.batch_size
    if steps_per_epoch == 0:
        raise SystemExit(f'{args.config}: an epoch has fewer samples per process than '
                         f'batch_size={config.batch_size}')

    model = build_model(config.model, encoder_weights=config.encoder_weights)
    optimizer, scheduler = build_optimizer(model, config, steps_per_epoch * config.epochs)
    progress = {'epoch': 0, 'step': 0, 'global_step': 0, 'best': float('-inf'), 'rank': rank}
    if args.resume and (output / 'last.pt').is_file():
        saved_model, _, extra = load_checkpoint(output / 'last.pt')
        model.load_state_dict(saved_model.state_dict())
        optimizer.load_state_dict(extra['optimizer'])
        scheduler.load_state_dict(extra['scheduler'])
        torch.set_rng_state(extra['rng'])
        progress.update(extra['progress'], rank=rank)
    model.to(device, memory_format=training_layout(device))
    wrapped = DistributedDataParallel(model) if world > 1 else model
    log = Logbook(output, enabled=rank == 0, resume=args.resume)

    def save(name: str, progress: dict) -> None:
        if rank != 0:
            return
        extra = {'progress': {k: v for k, v in progress.items() if k != 'rank'},
                 'optimizer': optimizer.state_dict(), 'scheduler': scheduler.state_dict(),
                 'rng': torch.get_rng_state()}
        save_checkpoint(output / name, model, info, extra)
        if name == 'last.pt':
            at = (f'epoch {progress["epoch"] + 1}, iteration {progress["step"]} of '
                  f'{steps_per_epoch}' if progress['step'] else
                  f'after epoch {progress["epoch"]}')
            saved.update(path=output / name, at=at)

    def stop_here(progress: dict, just_saved: bool = False) -> None:
        signum = stop_requested(stop, world, device)
        if signum:
            if not just_saved:
                save('last.pt', progress)
            saved['stop'] = True
            raise Stopped(signum)

    def on_step(progress: dict, losses: dict) -> None:
        log.step(progress['global_step'], losses)
        if config.save_every and progress['step'] % config.save_every == 0:
            save('last.pt', progress)
        stop_here(progress)

    try:
        for epoch in range(progress['epoch'], config.epochs):
            progress['epoch'] = epoch
            sampler.set_epoch(epoch, skip=progress['step'] * config.batch_size)
            started = time.monotonic()
            losses = train_one_epoch(wrapped,
                                     build_loader(view, sampler, config, info, device),
                                     optimizer, scheduler, config, device, progress, on_step)
            progress.update(epoch=epoch + 1, step=0)
            metrics = {}
            if rank == 0:
                metrics = evaluate(model, val_sets, config.val, info, device)
                if val_sets and score(metrics) > progress['best']:
                    progress['best'] = score(metrics)
                    save('best.pt', progress)
                save('last.pt', progress)
                log.epoch(epoch + 1, losses, metrics, time.monotonic() - started)
            if world > 1:
                dist.barrier()
            if epoch + 1 < config.epochs:
                stop_here(progress, just_saved=True)  # last.pt saved above, at this point
    finally:
        log.close()
        if world > 1:
            dist.destroy_process_group()
    return 0


if __name__ == '__main__':
    sys.exit(main())
