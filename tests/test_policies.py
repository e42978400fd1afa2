"""Policy distributions and networks; continuous (Box) actions for every policy-gradient agent."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch.distributions import Categorical as TorchCategorical
from torch.distributions import Independent, Normal, kl_divergence

from drlkit.agents.a2c import A2C
from drlkit.agents.policies import (
    Categorical,
    CategoricalPolicy,
    DiagGaussian,
    GaussianPolicy,
    ValueNetwork,
    make_policy,
)
from drlkit.agents.ppo import PPO
from drlkit.agents.reinforce import REINFORCE
from drlkit.agents.trpo import TRPO

from agent_tools import one_thread  # noqa: F401  (autouse fixture)


def test_categorical_matches_torch_distributions():
    logits = torch.randn(5, 3, 4, generator=torch.Generator().manual_seed(0)) * 3
    other_logits = torch.randn(5, 3, 4, generator=torch.Generator().manual_seed(1))
    actions = torch.randint(0, 4, (5, 3), generator=torch.Generator().manual_seed(2))
    ours, reference = Categorical(logits), TorchCategorical(logits=logits)
    torch.testing.assert_close(ours.log_prob(actions), reference.log_prob(actions))
    torch.testing.assert_close(ours.entropy(), reference.entropy())
    torch.testing.assert_close(
        ours.kl(Categorical(other_logits)), kl_divergence(reference, TorchCategorical(logits=other_logits))
    )
    torch.testing.assert_close(ours.mode(), logits.argmax(-1))


def test_categorical_entropy_closed_forms():
    uniform = Categorical(torch.zeros(6))
    assert float(uniform.entropy()) == pytest.approx(math.log(6))
    certain = Categorical(torch.tensor([0.0, -math.inf, -math.inf]))
    assert float(certain.entropy()) == 0.0
    assert float(certain.log_prob(torch.tensor(0))) == 0.0


def test_categorical_samples_follow_the_probabilities():
    probs = torch.tensor([0.1, 0.6, 0.3])
    dist = Categorical(probs.log().expand(20_000, 3))
    samples = dist.sample(torch.Generator().manual_seed(0))
    frequencies = torch.bincount(samples, minlength=3).float() / len(samples)
    torch.testing.assert_close(frequencies, probs, atol=0.015, rtol=0)
    # Same generator state, same samples.
    again = dist.sample(torch.Generator().manual_seed(0))
    assert torch.equal(samples, again)


def test_diag_gaussian_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mean, other_mean = torch.randn(7, 3, generator=g), torch.randn(7, 3, generator=g)
    log_std, other_log_std = torch.randn(3, generator=g) * 0.5, torch.randn(3, generator=g) * 0.5
    actions = torch.randn(7, 3, generator=g) * 2
    ours = DiagGaussian(mean, log_std)
    reference = Independent(Normal(mean, log_std.exp().expand_as(mean)), 1)
    other = Independent(Normal(other_mean, other_log_std.exp().expand_as(mean)), 1)
    torch.testing.assert_close(ours.log_prob(actions), reference.log_prob(actions))
    torch.testing.assert_close(ours.entropy(), reference.entropy())
    torch.testing.assert_close(ours.kl(DiagGaussian(other_mean, other_log_std)), kl_divergence(reference, other))


def test_diag_gaussian_closed_forms_and_sampling():
    # Standard normal in 2-D: entropy = log(2 pi e), log N(0; 0, I) = -log(2 pi).
    standard = DiagGaussian(torch.zeros(2), torch.zeros(2))
    assert float(standard.entropy()) == pytest.approx(math.log(2 * math.pi * math.e))
    assert float(standard.log_prob(torch.zeros(2))) == pytest.approx(-math.log(2 * math.pi))
    assert float(standard.kl(standard)) == pytest.approx(0.0)
    dist = DiagGaussian(torch.tensor([1.0, -2.0]).expand(50_000, 2), torch.log(torch.tensor([0.5, 2.0])))
    samples = dist.sample(torch.Generator().manual_seed(0))
    torch.testing.assert_close(samples.mean(0), torch.tensor([1.0, -2.0]), atol=0.03, rtol=0)
    torch.testing.assert_close(samples.std(0), torch.tensor([0.5, 2.0]), atol=0.03, rtol=0)


def test_gaussian_policy_std_is_state_independent():
    policy = GaussianPolicy(3, 2, (16,), "tanh", log_std_init=-0.7)
    assert dict(policy.named_parameters())["log_std"].shape == (2,)
    dists = policy(torch.randn(5, 3))
    torch.testing.assert_close(dists.log_std, torch.full((5, 2), -0.7))
    entropy = dists.entropy()
    torch.testing.assert_close(entropy, entropy[:1].expand(5))


def test_networks_have_expected_shapes():
    box_obs = gym.spaces.Box(-1, 1, (4,))
    assert isinstance(make_policy(box_obs, gym.spaces.Discrete(3), (8,), "relu"), CategoricalPolicy)
    assert isinstance(make_policy(box_obs, gym.spaces.Box(-1, 1, (2,)), (8,), "relu"), GaussianPolicy)
    with pytest.raises(ValueError, match="action space"):
        make_policy(box_obs, gym.spaces.MultiBinary(3), (8,), "relu")
    assert ValueNetwork(4, (8, 8), "tanh")(torch.zeros(6, 5, 4)).shape == (6, 5)
    dist = make_policy(box_obs, gym.spaces.Discrete(3), (8,), "tanh")(torch.zeros(6, 5, 4))
    assert dist.log_probs.shape == (6, 5, 3)


def test_initial_categorical_policy_is_near_uniform():
    policy = CategoricalPolicy(4, 2, (64, 64), "tanh")
    probs = policy(torch.randn(100, 4)).log_probs.exp()
    assert torch.all((probs - 0.5).abs() < 0.05)


# -------------------------------------------------- continuous action spaces
class ReachEnv(gym.Env):
    """Each step shows a target x in [-1, 1]; the reward is -(a - x)^2 for the action a
    (clipped to [-2, 2] by the agent). Episodes are cut by a time limit of 8 steps."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.target = self.np_random.uniform(-1, 1, size=1).astype(np.float32)
        return self.target.copy(), {}

    def step(self, action):
        assert self.action_space.contains(np.asarray(action, dtype=np.float32)), action
        reward = -float((action[0] - self.target[0]) ** 2)
        self.target = self.np_random.uniform(-1, 1, size=1).astype(np.float32)
        return self.target.copy(), reward, False, False, {}


def reach_env():
    return gym.wrappers.TimeLimit(ReachEnv(), max_episode_steps=8)


CONTINUOUS = {
    PPO: dict(num_envs=4, n_steps=64, batch_size=64, n_epochs=4, learning_rate=3e-3),
    A2C: dict(num_envs=8, n_steps=8, learning_rate=3e-3, optimizer="adam"),
    REINFORCE: dict(num_envs=8, n_steps=32, learning_rate=1e-2),
    TRPO: dict(num_envs=4, n_steps=64, max_kl=0.05),
}


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", list(CONTINUOUS), ids=lambda a: a.__name__)
def test_continuous_actions_learn_to_reach_the_target(algorithm):
    agent = algorithm(reach_env, seed=0, hidden_sizes=(32,), **CONTINUOUS[algorithm])
    # The initial deterministic policy outputs ~0: return ~ 8 * E[x^2] = -8/3.
    before = agent.evaluate(20).mean()
    assert before < -2.0
    agent.train(8_000)
    assert agent.evaluate(20).mean() > -0.5
    # Sampled actions are stored unclipped; their log-probs are those of the unclipped sample.
    fragment = agent.collect(64)
    actions = torch.from_numpy(fragment.data["actions"])
    assert actions.shape[-1] == 1
    with torch.no_grad():
        log_probs = agent.policy(torch.from_numpy(fragment.data["obs"])).log_prob(actions)
    torch.testing.assert_close(log_probs, torch.from_numpy(fragment.data["log_probs"]))


def test_box_actions_are_clipped_only_when_acting_in_the_env():
    agent = PPO(reach_env, seed=0, num_envs=2, n_steps=16, batch_size=32, log_std_init=1.5)
    fragment = agent.collect()
    assert np.abs(fragment.data["actions"]).max() > 2.0  # std e^1.5: many samples leave [-2, 2]
    stochastic = agent.act(np.zeros((500, 1), dtype=np.float32), deterministic=False)
    assert stochastic.min() == -2.0 and stochastic.max() == 2.0
    with torch.no_grad():
        agent.policy.mean[-1].bias.fill_(5.0)
    assert agent.act(np.array([0.3], dtype=np.float32)).tolist() == [2.0]
