# variant: correct
# what: the questions answered with NumPy scalars (np.str_ letters, an np.float64 bound), which
#   the student's check accepts: the grade of record must too (one verdict)
# assignment: 01_perceptron
# %% id=answer_q1_1
answer_q1_1 = np.str_("B")
# %% id=answer_q1_2
answer_q1_2 = np.float64(2 / 0.1) ** 2
# %% id=answer_q1_3
answer_q1_3 = np.array(["b"])[0]
