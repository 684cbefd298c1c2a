/**
 * A short English text, written for this project, that the default model's tokenizer is trained
 * on. It only shapes the vocabulary: the default model's weights are random.
 */
export const DEFAULT_CORPUS = `Verity is an open network for machine learning inference that anyone can check.
A miner serves a model and signs a receipt for every answer. The receipt commits to the exact
computation: the model, the request, the output and the trace of every step in between.
A validator sends questions to the miners, runs some of the answers again on its own machine,
and compares them bit for bit. When the numbers agree, the miner earns a good score. When they
do not agree, the validator keeps the evidence, and anyone can open a dispute on the chain.
The dispute is a game of halves: the two sides split the trace again and again until they point
at one number they disagree on. Then a contract computes that number itself, and the side that
lied loses its stake. Honest machines always agree, because the runtime uses only integers.
There is no floating point in the forward pass, no clock and no hidden randomness. The sampler
draws from its own generator, seeded by the request, so the same request gives the same words.
The weights of a model are rounded to small integers with one scale for each row. The values
that flow between the layers are fixed point numbers. The square root, the exponential and the
tables of sines and cosines are all computed with integer steps that anyone can repeat.
People reach the network through an interface that speaks the same language as the tools they
already use. They ask a question, they get an answer, and they get a receipt they can keep.
Once upon a time, a small robot lived in a quiet town by the sea. Every morning it walked to
the harbour to count the boats. One day it found a boat that was not on its list. The robot
asked the fisherman where the boat came from, and the fisherman laughed and said that it was
new. The robot wrote the new boat in its book, and from that day on the list was right again.
The children of the town liked the robot, because it always told the truth about the boats.`
