"""Environment report: mmdet's plus this package's version.

``python -m maskfreevis.utils.collect_env``
"""

from mmengine.utils.dl_utils import collect_env as collect_base_env

import maskfreevis


def collect_env() -> dict:
    """Versions of Python, torch, mmcv, mmengine, mmdet and maskfreevis; compiler and CUDA."""
    import mmcv
    import mmdet

    env_info = collect_base_env()
    env_info['MMCV'] = mmcv.__version__
    env_info['MMDetection'] = mmdet.__version__
    env_info['MaskFreeVIS'] = maskfreevis.__version__
    try:
        from mmcv.ops import get_compiler_version, get_compiling_cuda_version

        env_info['MMCV Compiler'] = get_compiler_version()
        env_info['MMCV CUDA Compiler'] = get_compiling_cuda_version()
    except ImportError as error:  # mmcv without compiled ops
        env_info['MMCV ops'] = f'not available ({error})'
    return env_info


if __name__ == '__main__':
    for name, value in collect_env().items():
        print(f'{name}: {value}')
