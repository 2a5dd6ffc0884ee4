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

"""YAML files over typed dataclass schemas: unknown keys and wrong types fail loudly."""

from pathlib import Path
from typing import Any, TypeVar

import dacite
import yaml

T = TypeVar('T')


class ConfigError(ValueError):
    """A config file that does not fit its schema; the message names the file and the key."""


def from_dict(schema: type[T], data: dict[str, Any], source: str = '<dict>') -> T:
    """
    Build ``schema`` from plain data, refusing unknown keys and wrong types.

    :param schema: a dataclass type; its defaults fill the keys the data leaves out.
    :param data: the overrides, e.g. parsed YAML.
    :param source: where the data came from, for the error message.
    :raises ConfigError: naming ``source`` and the offending key.
    """
    if not isinstance(data, dict):
        raise ConfigError(f'{source}: expected a mapping at the top level, '
                          f'got {type(data).__name__}')
    try:
        config = dacite.from_dict(schema, data, config=dacite.Config(strict=True))
    except dacite.UnexpectedDataError as exc:
        raise ConfigError(f'{source}: unknown key(s) {sorted(exc.keys)} '
                          f'for {schema.__name__}') from exc
    except dacite.WrongTypeError as exc:
        raise ConfigError(f'{source}: key {exc.field_path!r} must be {exc.field_type}, '
                          f'got {exc.value!r}') from exc
    except dacite.MissingValueError as exc:
        raise ConfigError(f'{source}: key {exc.field_path!r} is required') from exc
    except dacite.DaciteError as exc:
        raise ConfigError(f'{source}: {exc}') from exc
    validate = getattr(config, 'validate', None)
    if validate is not None:
        try:
            validate()
        except ValueError as exc:
            raise ConfigError(f'{source}: {exc}') from exc
    return config


def load_config(schema: type[T], path: str | Path) -> T:
    """Read a YAML file into ``schema`` (see ``from_dict``); errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f'config file {path} does not exist')
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f'{path}: not valid YAML: {exc}') from exc
    return from_dict(schema, data or {}, str(path))
